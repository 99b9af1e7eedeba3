"""Built-in judge calibration anchors: questions whose depth is not in doubt, per language.

The depth/breadth filter scores them when it starts; a judge that cannot rank the shallow ones below
the deep ones is blind, and the filter says so (a warning line, `judge_calibration` in its record).
They differ from the examples inside the judge prompt and from the benchmark's anchor set."""

from typing import Dict, List, Optional

# (question, reference answer)
ANCHORS: Dict[str, Dict[str, List[tuple]]] = {
    "en": {
        "shallow": [
            ("What colour is a ripe banana?", "Yellow"),
            ("How many legs does a spider have?", "Eight"),
            ("Which planet is closest to the Sun?", "Mercury"),
        ],
        "deep": [
            (
                "A tank holds 240 litres and leaks 5% of its current volume each hour, while a pump adds 10 litres "
                "at the end of every hour. After three hours, is the tank fuller or emptier than at the start, "
                "and by how many litres (to one decimal)?",
                "Emptier, by about 5.7 litres",
            ),
            (
                "A train leaves at 09:40 and covers 210 km at 84 km/h, waits 25 minutes, then covers 60 km more at "
                "90 km/h. At what time does it arrive?",
                "13:15",
            ),
            (
                "If a firm raises its price by 10% and demand for its product has a price elasticity of -2, "
                "by roughly what percentage does revenue change, and should a profit-maximising firm with rising "
                "marginal costs make this move?",
                "Revenue falls by about 12%; no, unless costs fall by more",
            ),
        ],
    },
    "zh": {
        "shallow": [
            ("成熟的香蕉是什么颜色？", "黄色"),
            ("蜘蛛有几条腿？", "八条"),
            ("离太阳最近的行星是哪一颗？", "水星"),
        ],
        "deep": [
            (
                "一个水箱装有240升水，每小时漏掉当前水量的5%，同时每小时结束时水泵加入10升。三小时后水箱比开始时多还是少，差多少升（保留一位小数）？",
                "少，约6.2升",
            ),
            (
                "某公司把价格提高10%，其产品需求的价格弹性为-2。收入大约变化百分之几？在边际成本上升的情况下，追求利润最大化的公司应该这样做吗？",
                "收入下降约12%；不应该，除非成本下降更多",
            ),
            (
                "甲比乙早出生3年，乙出生那年丙刚好10岁，丙比丁大5岁，丁出生于1990年。甲出生于哪一年？",
                "1992年",
            ),
        ],
    },
}


def auc(low: List[float], high: List[float]) -> float:
    """The share of (low, high) pairs ranked high above low (ties count half): 1 = perfect, 0.5 = blind."""
    if not low or not high:
        return 0.5
    wins = sum((h > lo) + 0.5 * (h == lo) for h in high for lo in low)
    return wins / (len(low) * len(high))


def anchor_rows(language: str) -> List[Dict[str, str]]:
    """The anchors as rows a judge filter scores: the shallow ones first, then the deep ones."""
    levels = ANCHORS[language]
    pairs = [a for level in ("shallow", "deep") for a in levels[level]]
    return [
        {"multihop_question": q, "multihop_answer": a, "mindgym_row_id": f"anchor{i}"} for i, (q, a) in enumerate(pairs)
    ]


def calibration(scores: List[Optional[float]], language: str, min_auc: float) -> Dict:
    """{"ok", "auc", "shallow", "deep"} from a judge's scores of `anchor_rows(language)` (None: no score)."""
    n = len(ANCHORS[language]["shallow"])
    shallow, deep = [s for s in scores[:n] if s is not None], [s for s in scores[n:] if s is not None]
    value = round(auc(shallow, deep), 3)
    return {"ok": value >= min_auc, "auc": value, "shallow": shallow, "deep": deep}


def blind_warning(op: str, found: Dict, min_auc: float) -> str:
    """The warning an op logs when its judge cannot rank the anchors (`calibration(...)["ok"]` is False)."""
    return (
        f"{op}: the judge ranks shallow and deep anchor questions poorly (AUC {found['auc']} < {min_auc}; "
        f"depth+breadth shallow {found['shallow']}, deep {found['deep']}): with this judge model the depth/breadth "
        "filter is close to blind; use a stronger judge or set min_depth/min_breadth to 1"
    )
