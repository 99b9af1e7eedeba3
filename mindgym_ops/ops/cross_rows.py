"""`combine: across_rows`: rows of a batch that share an entity or topic become one unit whose seeds bridge
both rows; the unit remembers its sources for the prompt and for provenance."""

from typing import Any, Dict, List

from data_juicer.utils.constant import Fields

from ..pairing import greedy_pairs, similarity
from ..rules.drafts import worked
from ..rules.seeds import bridge_pairs
from .rows import FAILURE_KEY, ROW_ID

SOURCES = "_mindgym_sources"  # on a unit: its rows, their similarity and each row's seed source


def seed_source(row: Dict[str, Any], drafts: bool = True) -> Dict[str, Any]:
    """What the multi-hop prompt shows of one row: background, principle, seeds, their bridges and, for a
    Comparison or Temporal set, a worked draft question with its answer (see `mindgym_ops.rules.drafts`)."""
    seeds = row.get("sub_questions") or []
    principle = row.get("relationship_category") or ""
    bridges = bridge_pairs(seeds)
    found = None if bridges or not drafts else worked(seeds, principle)
    return {
        "background": row.get("background_document") or "",
        "principle": principle,
        "sub_questions": seeds,
        "bridges": bridges,
        "draft": found[0] if found else None,
        "draft_answer": found[1] if found else None,
    }


def pair_units(
    rows: List[Dict[str, Any]], pair_by: str, min_similarity: float, image_key: str, drafts: bool = True
) -> List[Dict]:
    """The paired units first (greedy, most similar first), then every row left unpaired as it is."""
    live = [i for i, r in enumerate(rows) if not r[Fields.meta].get(FAILURE_KEY) and r.get("sub_questions")]
    texts = [
        " ".join([rows[i].get("background_document") or ""] + [q["question"] for q in rows[i]["sub_questions"]])
        for i in live
    ]
    sim, method = similarity(texts, pair_by) if len(live) > 1 else ([], "none")
    paired, units = set(), []
    for a, b, score in greedy_pairs(sim, min_similarity):
        first, second = rows[live[a]], rows[live[b]]
        unit = dict(first)
        unit[Fields.meta] = dict(first[Fields.meta])
        unit[ROW_ID] = f"{first[ROW_ID]}+{second[ROW_ID]}"
        unit["background_document"] = first["background_document"] + "\n\n" + second["background_document"]
        unit["sub_questions"] = list(first["sub_questions"]) + list(second["sub_questions"])
        unit[image_key] = list(first.get(image_key) or []) + list(second.get(image_key) or [])
        unit[SOURCES] = {
            "rows": [first[ROW_ID], second[ROW_ID]],
            "similarity": round(score, 4),
            "method": method,
            "sources": [seed_source(first, drafts), seed_source(second, drafts)],
        }
        paired.update((live[a], live[b]))
        units.append(unit)
    return units + [r for i, r in enumerate(rows) if i not in paired]


def cross_provenance(unit: Dict[str, Any]) -> Dict[str, Any]:
    """What a cross-row unit adds to its provenance: both source rows, their similarity and how it was measured."""
    cross = unit.get(SOURCES)
    if not cross:
        return {}
    return {
        "combine": "across_rows",
        "source_rows": cross["rows"],
        "similarity": cross["similarity"],
        "pair_method": cross["method"],
    }
