"""mindgym-report on real dj-process exports (text en and zh, image, a Ray folder) made against the loopback
server, rendered in headless Chromium. Expected figures are computed here from the export and the counts."""

import base64
import io
import json
import os
import re
import shutil
import subprocess
import sys
import zlib
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path
from typing import Dict, List

import pytest
import yaml
from helpers import ROOT, api_run_env, read_jsonl, recipe_copy, run_dj
from mindgym_script import MindGymScript, prompt_text, user_text
from PIL import Image

from mindgym_ops.report import build_report
from mindgym_ops.report.page import FONT_STACK
from mindgym_ops.rules.checks import copied_seed
from mindgym_ops.rules.words import normalise
from mindgym_ops.testing.server import FakeOpenAIServer

SECTIONS = ("funnel", "coverage", "scores", "substance", "cost", "examples", "dropped")
PAYLOAD = ' <script>console.error("unescaped model text")</script><b class="injected">not bold</b>'
LOGURU_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+ \| (DEBUG|INFO) ")
ZH_SEEDS = [
    {"question": "谁在星期一测量了单位？", "answer": "玛拉"},
    {"question": "星期五测量的数量是星期一的几倍？", "answer": "两倍"},
    {"question": "委员会在星期几开会？", "answer": "星期四"},
]


def require_extra(what: str, install: str):
    """CI (MINDGYM_REQUIRE_EXTRAS=1) fails when an extra is missing; elsewhere the test is skipped."""
    message = f"{what} is missing: {install}"
    if os.environ.get("MINDGYM_REQUIRE_EXTRAS") == "1":
        pytest.fail(message + " (MINDGYM_REQUIRE_EXTRAS=1)")
    pytest.skip(message)


def chromium_exe() -> str:
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if not exe:
        require_extra("headless Chromium", "apt-get install -y chromium (.ci/extras.sh)")
    return exe


def chromium(url: str, profile: Path, *args: str) -> subprocess.CompletedProcess:
    cmd = [
        chromium_exe(),
        "--headless",
        "--disable-gpu",
        "--no-sandbox",
        "--hide-scrollbars",
        "--enable-logging=stderr",
        "--v=0",
        "--host-resolver-rules=MAP * ~NOTFOUND",  # the page must need no network
        f"--user-data-dir={profile}",
        *args,
        url,
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-3000:]
    return done


def console_lines(stderr: str) -> List[str]:
    # the page has no scripts: any console message (an error, an executed injected script) is a bug
    return [ln for ln in stderr.splitlines() if ":CONSOLE" in ln]


# a small DOM reader over Chromium's --dump-dom -----------------------------------------------------


class Node:
    def __init__(self, tag: str, attrs: Dict[str, str], parent: "Node" = None):
        self.tag, self.attrs, self.parent, self.children, self.parts = tag, attrs, parent, [], []

    @property
    def text(self) -> str:
        return "".join(p if isinstance(p, str) else p.text for p in self.parts)

    def find_all(self, tag: str = None, **attrs) -> List["Node"]:
        out = []
        for c in self.children:
            if (tag is None or c.tag == tag) and all(c.attrs.get(k.replace("_", "-")) == v for k, v in attrs.items()):
                out.append(c)
            out += c.find_all(tag, **attrs)
        return out

    def find(self, tag: str = None, **attrs) -> "Node":
        found = self.find_all(tag, **attrs)
        assert found, f"no <{tag} {attrs}> in the rendered page"
        return found[0]


class Dom(HTMLParser):
    VOID = {"meta", "img", "br", "hr", "input", "link", "rect", "line"}

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.root = self.current = Node("#root", {})
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        node = Node(tag, {k: v or "" for k, v in attrs}, self.current)
        self.current.children.append(node)
        self.current.parts.append(node)
        if tag not in self.VOID:
            self.current = node

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in self.VOID:
            self.current = self.current.parent

    def handle_endtag(self, tag):
        node = self.current
        while node is not self.root and node.tag != tag:
            node = node.parent
        if node is not self.root:
            self.current = node.parent

    def handle_data(self, data):
        self.current.parts.append(data)


# runs ---------------------------------------------------------------------------------------------


def about(body) -> str:
    """The row-specific snippet the scripted seeds carry in brackets (in every turn of a retried conversation)."""
    text = prompt_text(body)
    return text.split("[", 1)[1].split("]", 1)[0] if "[" in text and "]" in text else ""


def varied_script() -> MindGymScript:
    """Each row gets a fate by the order its seeds first reach the multi-hop step: a copied seed, an answer in
    the thinking (both refused, then dropped), a duplicate question (dedup), a shallow judgement, an always
    solved question; every thinking carries markup that must show as text."""
    script, shallow = MindGymScript(), MindGymScript(depth=1)
    fates: Dict[str, int] = {}
    solves: Counter = Counter()

    def fate(body) -> int:
        return fates.get(about(body), -1)

    def multihop(body):
        fates.setdefault(about(body), len(fates) % 8)
        reply = json.loads(script._multihop(body))
        reply["thinking"] += PAYLOAD
        if fate(body) == 0:
            reply["multihop_question"] = f"Who measured the units on Monday [{about(body)}]?"
        elif fate(body) == 1:
            reply["thinking"] += " So: " + reply["multihop_answer"]
        elif fate(body) in (2, 3):
            reply["multihop_question"] = reply["multihop_question"].split("] ", 1)[1].split(" in ", 1)[0] + (
                " doubled the figure by Friday; when does the council first hear of it, given the day it meets?"
            )
        return json.dumps(reply)

    def judge(body):
        return (shallow if fate(body) == 4 else script)._judge(body)

    def solve(body):
        q = user_text(body)
        solves[q] += 1
        right = fate(body) == 5 or solves[q] % 2 == 0
        return json.dumps({"answer": "The following Thursday" if right else "Monday"})

    script.overrides.update(multihop=multihop, judge=judge, solve=solve)  # a retry carries the same schema
    return script


def chinese_script() -> MindGymScript:
    script = MindGymScript(solve_every=2)
    rows = Counter()

    def seed_qa(body):
        reply = json.loads(script._seed_qa(body))
        reply["sub_questions"] = ZH_SEEDS
        return json.dumps(reply, ensure_ascii=False)

    def multihop(body):  # the archive name tells rows apart (the dedup op ignores digits)
        n = rows.setdefault(zlib.crc32(user_text(body).encode()), len(rows))
        return json.dumps(
            {
                "thinking": "先确定星期一是谁测量了单位，再比较星期五测量的数量是星期一的几倍，最后结合委员会在星期几开会推出结论。",
                "multihop_question": f"{'甲乙丙丁戊己庚辛壬癸'[n % 10]}号档案：工程师周一测量后，周五数值翻倍；按三天内上报的规则和例会安排，委员会最早何时得知？",
                "multihop_answer": "下一个星期四，因为报告须在周五后三天内提交，而委员会只在星期四开会。",
            },
            ensure_ascii=False,
        )

    def background(body):  # Chinese facts that hold the seed answers (the seeds must be grounded)
        n = script._h(body)
        return (
            f"{1800 + n % 200}年，维尔镇的工程师玛拉在星期一测量了{n % 50 + 10}个单位，星期五测得的数量是星期一的两倍。"
            "两年后，同事托马斯把这两个数字与档案核对。档案规定：数量翻倍必须在三天内上报委员会，而委员会只在星期四开会。"
        ) * 2

    script.overrides.update(background=background, seed_qa=seed_qa, multihop=multihop)
    return script


def dj_run(tmp: Path, name: str, script: MindGymScript, **recipe_args) -> Path:
    length = recipe_args.pop("length", None)
    recipe = recipe_copy(name, tmp, length=length, **recipe_args)
    if recipe_args.get("executor_type") == "ray":  # Data-Juicer's exact deduplicator has a Ray twin
        cfg = yaml.safe_load(recipe.read_text())
        cfg["process"] = [
            {"ray_document_deduplicator": s["document_deduplicator"]} if "document_deduplicator" in s else s
            for s in cfg["process"]
        ]
        recipe.write_text(yaml.safe_dump(cfg, sort_keys=False))
    with FakeOpenAIServer(script) as srv:
        done = run_dj(recipe, api_run_env(srv, RAY_USAGE_STATS_ENABLED="0"), cwd=str(ROOT))
    assert done.returncode == 0, done.stderr[-4000:]
    return tmp / "out" / "result.jsonl"


@pytest.fixture(scope="module")
def text_export(tmp_path_factory):
    # Data-Juicer's tracer open: the page shows the rows each op dropped
    return dj_run(
        tmp_path_factory.mktemp("text"), "mindgym_text.yaml", varied_script(), length=16, np=1, open_tracer=True
    )


@pytest.fixture(scope="module")
def zh_export(tmp_path_factory):
    # the tracer closed: the page says how to see the dropped rows
    return dj_run(
        tmp_path_factory.mktemp("zh"), "mindgym_text_zh.yaml", chinese_script(), length=8, np=1, open_tracer=False
    )


@pytest.fixture(scope="module")
def image_export(tmp_path_factory):
    return dj_run(tmp_path_factory.mktemp("image"), "mindgym_image.yaml", MindGymScript(solve_every=2), np=1)


def report_cli(*args: str) -> subprocess.CompletedProcess:
    exe = str(Path(sys.executable).parent / "mindgym-report")
    return subprocess.run([exe, *args], capture_output=True, text=True, timeout=300, cwd=str(ROOT))


def render(export: Path, tmp: Path):
    """Write the report through the CLI, then load it in Chromium: (DOM, screenshot path, html)."""
    done = report_cli(str(export))
    assert done.returncode == 0, done.stderr[-3000:]
    page = Path(done.stdout.strip().splitlines()[-1])
    assert page == export.parent / "report.html" and page.is_file()
    html = page.read_text(encoding="utf-8")
    # self-contained: no scripts, no fetched stylesheets, fonts or images
    assert not re.search(r"<script|<link|@import|url\(|src=\"(?!data:)", html), "the page references something"
    url = page.as_uri()
    dom = chromium(url, tmp / "profile-dom", "--dump-dom")
    shot = tmp / f"{export.parent.parent.name}.png"
    png = chromium(url, tmp / "profile-shot", f"--screenshot={shot}", "--window-size=1280,2200")
    assert not console_lines(dom.stderr + png.stderr), console_lines(dom.stderr + png.stderr)
    return Dom(dom.stdout).root, shot, html


def summed_counts(export: Path) -> Dict[str, Dict]:
    """Per-op totals of the run's count files, summed here without the report's code."""
    job = [d for d in export.parent.iterdir() if (d / "mindgym_counts").is_dir()]
    assert len(job) == 1, job
    out: Dict[str, Dict] = {}
    for f in (job[0] / "mindgym_counts").glob("*.json"):
        d = json.loads(f.read_text())
        t = out.setdefault(d["op"], {"rows_in": 0, "kept": 0, "requests": 0, "tokens": 0})
        for k in ("rows_in", "kept", "requests"):
            t[k] += d[k]
        t["tokens"] += sum(d["usage"].values())
        for k in ("dropped", "flagged"):
            t.setdefault(k, Counter()).update(d[k])
        control = t.setdefault("control", Counter())
        control.update((d.get("notes") or {}).pop("agree_control", {}))
        t.setdefault("notes", {}).update(d.get("notes") or {})
    return out


def export_rows(export: Path) -> List[Dict]:
    files = sorted(export.glob("*.json")) if export.is_dir() else [export]
    return [r for f in files for r in read_jsonl(f)]


def question_of(row) -> str:
    return row["multihop_question"]


def cell(dom, row_attrs: Dict[str, str], key: str) -> str:
    return dom.find("tr", **row_attrs).find("td", data_k=key).text.strip()


def assert_page_shows_the_export(dom, export: Path, shot: Path) -> None:
    rows, counts = export_rows(export), summed_counts(export)
    for section in SECTIONS:
        assert dom.find("section", id=section).find("h2").text.strip()
    # funnel: every MindGYM op with its counts, and its reasons
    for op, c in counts.items():
        assert cell(dom, {"data-op": op}, "rows_in") == str(c["rows_in"])
        assert cell(dom, {"data-op": op}, "kept") == str(c["kept"])
        spans = dom.find("tr", data_op=op).find_all("span")
        shown = {s.attrs["data-reason"]: s.text for s in spans if "data-reason" in s.attrs}
        for reason, n in (c["dropped"] + c["flagged"]).items():
            assert shown[reason] == f"{reason}: {n}"
    # coverage and language, counted from the export
    cells = Counter((r.get("reasoning_category") or "(none)", r.get("relationship_category") or "(none)") for r in rows)
    for (area, principle), n in cells.items():
        assert dom.find("td", data_area=area, data_principle=principle).text.strip() == str(n)
    for lang, n in Counter(r["language"] for r in rows).items():
        assert dom.find("span", data_lang=lang).text == f"{lang}: {n}"
    # score histograms: every value of the export in its bin
    for key in ("mindgym_depth", "mindgym_breadth", "mindgym_solve_rate"):
        values = Counter(r["__dj__stats__"][key] for r in rows)
        bins = {g.attrs["data-bin"]: int(g.attrs["data-count"]) for g in dom.find("svg", data_chart=key).find_all("g")}
        for value, n in values.items():
            label = ("judge failed" if key != "mindgym_solve_rate" else "undecided") if value == -1 else f"{value:g}"
            assert bins[label] == n, (key, value, bins)
        assert sum(bins.values()) == len(rows)
    calibrations = [
        json.loads(r["__dj__stats__"]["mindgym_judge_record"]).get("judge_calibration")
        for r in rows
        if "mindgym_judge_record" in r["__dj__stats__"]
    ]
    calibrations += [c.get("notes", {}).get("judge_calibration") for c in counts.values()]
    calibrations = list({json.dumps(c, sort_keys=True): c for c in calibrations if c}.values())
    shown = [
        n.attrs["data-calibration"]
        for n in dom.find("section", id="scores").find_all("p")
        if "data-calibration" in n.attrs
    ]
    assert set(shown) == ({"ok" if c["ok"] else "blind" for c in calibrations} if calibrations else {"none"})
    control = sum((c["control"] for c in counts.values()), Counter())
    nodes = [n for n in dom.find("section", id="scores").find_all("p") if "data-control" in n.attrs]
    shown = [(n.attrs["data-failed"], n.attrs["data-of"]) for n in nodes]
    assert shown == ([(str(control["failed"]), str(sum(control.values())))] if sum(control.values()) else [])
    # verification: answers worked out by code, and the verified-hard ones the band kept
    (ver,) = [n for n in dom.find("section", id="scores").find_all("p") if "data-verification" in n.attrs]
    hard = sum(
        bool(json.loads(r["__dj__stats__"].get("mindgym_solve_record") or "{}").get("verified_hard")) for r in rows
    )
    code = sum(r.get("answer_source") == "code" for r in rows)
    assert (ver.attrs["data-code"], ver.attrs["data-hard"], ver.attrs["data-of"]) == (
        str(code),
        str(hard),
        str(len(rows)),
    )
    # substance: counted reasons and what the export itself shows
    substance = dom.find("section", id="substance")
    multihop = counts["mindgym_multihop_qa_mapper"]
    copied = sum(bool(copied_seed(question_of(r), r["sub_questions"])) for r in rows)
    generation = multihop["dropped"]["multihop_copies_seed"] + multihop["flagged"]["multihop_copies_seed"]
    td = substance.find("tr", data_metric="copied_seeds").find("td", data_k="generation")
    assert (td.attrs["data-n"], td.attrs["data-of"]) == (str(generation), str(multihop["rows_in"]))
    td = substance.find("tr", data_metric="copied_seeds").find("td", data_k="export")
    assert (td.attrs["data-n"], td.attrs["data-of"]) == (str(copied), str(len(rows)))
    normalised = [normalise(question_of(r)) for r in rows]
    td = substance.find("tr", data_metric="duplicates").find("td", data_k="export")
    assert td.attrs["data-n"] == str(len(normalised) - len(set(normalised)))
    # cost: tokens over every op, per accepted record
    total = sum(c["tokens"] for c in counts.values())
    assert cell(dom, {"data-op": "total"}, "tokens") == str(total)
    assert cell(dom, {"data-op": "total"}, "requests") == str(sum(c["requests"] for c in counts.values()))
    assert dom.find("strong", data_k="per_accepted").text == str(round(total / len(rows)))
    # examples: real records of the export, with their seeds, thinking and answer
    by_id = {r["mindgym_row_id"]: r for r in rows}
    shown = dom.find("section", id="examples").find_all("article")
    assert len(shown) == min(6, len(rows))
    for article in shown:
        row = by_id[article.attrs["data-row"]]
        assert article.find("p", **{"class": "question"}).text == question_of(row)
        seeds = [li.find("span").text for li in article.find("ol").find_all("li")]
        assert seeds == [s["question"] for s in row["sub_questions"]]
        assert article.find("div", **{"class": "thinking"}).text == row["thinking"]
        assert article.find("div", **{"class": "answer"}).text == row["multihop_answer"]
    assert not dom.find_all("b")  # model markup stays text
    # the screenshot has real content: many non-white pixels in several colours
    with Image.open(shot) as im:
        rgb = im.convert("RGB")
        pixels = list(rgb.getdata())
    inked = sum(1 for p in pixels if sum(p) < 600)
    assert inked > 0.02 * len(pixels), inked
    assert len(set(pixels)) > 200


# tests ----------------------------------------------------------------------------------------------


def test_text_report_renders_the_runs_funnel_scores_substance_cost_and_examples(text_export, tmp_path):
    dom, shot, html = render(text_export, tmp_path)
    assert_page_shows_the_export(dom, text_export, shot)
    counts = summed_counts(text_export)
    rows = export_rows(text_export)
    # the scripted fates really happened, so the page shows non-zero drops of each kind
    assert counts["mindgym_multihop_qa_mapper"]["dropped"]["multihop_copies_seed"] > 0
    assert counts["mindgym_depth_breadth_filter"]["dropped"]["mindgym_depth_out_of_band"] > 0
    dropped = counts["mindgym_self_consistency_filter"]["dropped"]
    assert dropped["mindgym_solve_rate_too_hard"] + dropped["mindgym_solve_rate_too_easy"] > 0
    # Data-Juicer's dedup: rows in = what the multi-hop op kept, rows out = what the judge read
    dedup_in, dedup_out = (
        counts["mindgym_multihop_qa_mapper"]["kept"],
        counts["mindgym_depth_breadth_filter"]["rows_in"],
    )
    assert dedup_in > dedup_out
    assert cell(dom, {"data-op": "document_deduplicator"}, "rows_in") == str(dedup_in)
    assert cell(dom, {"data-op": "document_deduplicator"}, "kept") == str(dedup_out)
    td = dom.find("tr", data_metric="duplicates").find("td", data_k="generation")
    assert (td.attrs["data-n"], td.attrs["data-of"]) == (str(dedup_in - dedup_out), str(dedup_in))
    assert "&lt;script&gt;console.error" in html and len(rows) > 0
    # dropped rows: what the tracer kept of each op, with the mapper's reason, the filters' scores, the attempts
    (job,) = [d for d in text_export.parent.iterdir() if (d / "trace").is_dir()]
    shown = {d.attrs["data-op"]: d for d in dom.find("section", id="dropped").find_all("div", **{"class": "dropped"})}
    traced = {f.stem.split("-", 1)[1]: read_jsonl(f) for f in (job / "trace").glob("sample_trace-*.jsonl")}
    assert {"mindgym_multihop_qa_mapper", "mindgym_depth_breadth_filter", "mindgym_self_consistency_filter"} <= set(
        traced
    )
    assert set(shown) == set(traced)
    for op, gone in traced.items():
        articles = shown[op].find_all("article")
        spans = shown[op].find("p", **{"class": "reasons"}).find_all("span")
        assert {sp.attrs["data-reason"]: sp.text for sp in spans} == {
            r: f"{r}: {n}" for r, n in counts[op]["dropped"].items()
        }
        assert [a.attrs["data-row"] for a in articles] == [r["mindgym_row_id"] for r in gone]
        assert len(gone) == min(10, sum(counts[op]["dropped"].values()))  # trace_num 10: the tracer's own limit
        for article, row in zip(articles, gone):
            tags = article.find("div", **{"class": "tags"}).text
            if op == "mindgym_multihop_qa_mapper":
                assert row["__dj__meta__"]["mindgym_failure"].startswith(op + ":multihop_")
                assert row["__dj__meta__"]["mindgym_failure"] in tags
                # what the model last wrote for the row, and why it was refused
                refused = json.loads(row["__dj__meta__"]["mindgym_multihop"])["refused"]
                assert row["__dj__meta__"]["mindgym_failure"] == f"{op}:multihop_{refused['reason']}"
                assert article.find("div", **{"class": "thinking refused"}).text == refused["reply"]
                assert json.loads(refused["reply"])["multihop_question"]
            elif op == "mindgym_self_consistency_filter":
                record = json.loads(row["__dj__stats__"]["mindgym_solve_record"])
                marks = [li.attrs["data-right"] for li in article.find("ol", **{"class": "attempts"}).find_all("li")]
                assert marks == [str(v).lower() for v in record["verdicts"]] and len(marks) == 4
                assert f"solve_rate {row['__dj__stats__']['mindgym_solve_rate']:g}" in tags
            else:
                assert f"depth {row['__dj__stats__']['mindgym_depth']:g}" in tags


def test_chinese_run_report(zh_export, tmp_path):
    dom, shot, html = render(zh_export, tmp_path)
    # a run without the tracer says how to see its dropped rows
    assert "--open_tracer true" in dom.find("section", id="dropped").text
    assert_page_shows_the_export(dom, zh_export, shot)
    assert dom.find("html").attrs["lang"] == "zh"
    questions = [p.text for p in dom.find_all("p", **{"class": "question"})]
    assert questions and all(re.search(r"[\u4e00-\u9fff]", q) for q in questions)


def test_report_font_stack_draws_chinese_glyphs(tmp_path):
    """Two different Chinese characters in the report's font stack must not come out as the same box."""
    page = tmp_path / "cjk.html"
    cells = "".join(
        f'<div style="position:absolute;left:{i * 100}px;top:0;width:100px;height:100px;font-size:72px">{ch}</div>'
        for i, ch in enumerate("中题")
    )
    page.write_text(
        f'<html lang="zh"><meta charset="utf-8"><style>body {{ margin: 0; font-family: {FONT_STACK}; }}</style>'
        f"<body>{cells}</body></html>",
        encoding="utf-8",
    )
    shot = tmp_path / "cjk.png"
    chromium(
        page.as_uri(), tmp_path / "profile", f"--screenshot={shot}", "--window-size=600,200"
    )  # smaller windows come out blank
    with Image.open(shot) as im:
        a, b = im.convert("L").crop((0, 0, 100, 100)), im.convert("L").crop((100, 0, 200, 100))
    assert a.getextrema()[0] < 128, "nothing drawn"
    if a.tobytes() == b.tobytes():
        require_extra("a CJK font (Chinese renders as boxes)", "apt-get install -y fonts-wqy-microhei")


def test_image_run_report_shows_thumbnails(image_export, tmp_path):
    dom, shot, html = render(image_export, tmp_path)
    assert_page_shows_the_export(dom, image_export, shot)
    rows = {r["mindgym_row_id"]: r for r in export_rows(image_export)}
    articles = dom.find("section", id="examples").find_all("article")
    assert articles
    for article in articles:
        imgs = article.find_all("img")
        assert len(imgs) == len(rows[article.attrs["data-row"]]["images"]) > 0
        for img in imgs:
            head, data = img.attrs["src"].split(",", 1)
            assert head == "data:image/jpeg;base64"
            with Image.open(io.BytesIO(base64.b64decode(data))) as thumb:
                assert 0 < max(thumb.size) <= 320
    assert dom.find("span", data_k="image_rows").text == str(len(rows))


@pytest.mark.slow
def test_ray_folder_report(tmp_path):
    export = dj_run(
        tmp_path,
        "mindgym_text.yaml",
        MindGymScript(solve_every=2),
        length=8,
        np=1,
        executor_type="ray",
        ray_address="local",
    )
    assert export.is_dir()  # Ray writes a folder of JSON files
    dom, shot, html = render(export, tmp_path)
    assert_page_shows_the_export(dom, export, shot)
    # no per-op log lines on Ray: the dedup op's rows come from the op after it
    row = dom.find("tr", data_op="ray_document_deduplicator")
    assert "rows in of mindgym_depth_breadth_filter" in row.text
    assert row.find("td", data_k="kept").text == str(summed_counts(export)["mindgym_depth_breadth_filter"]["rows_in"])


def test_a_rerun_into_the_same_folder_reports_the_job_that_wrote_the_export(text_export, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(text_export.parent, out)
    job = next(d for d in out.iterdir() if (d / "mindgym_counts").is_dir())
    for events in job.glob("events_*.jsonl"):  # as if the run had exported here
        events.write_text(events.read_text().replace(str(text_export), str(out / "result.jsonl")))
    # a later job beside it that exported elsewhere (another recipe sharing the folder), with other counts
    other = out / "29991231_000000_other"
    shutil.copytree(job, other)
    for events in other.glob("events_*.jsonl"):
        events.write_text(events.read_text().replace(str(out / "result.jsonl"), str(out / "elsewhere.jsonl")))
    for f in (other / "mindgym_counts").glob("*.json"):
        f.write_text(json.dumps({**json.loads(f.read_text()), "rows_in": 999}))
    page = build_report(str(out / "result.jsonl"))
    dom = Dom(page.read_text(encoding="utf-8")).root
    assert job.name in dom.find("p", **{"class": "sub"}).text
    for op, c in summed_counts(text_export).items():
        assert cell(dom, {"data-op": op}, "rows_in") == str(c["rows_in"])


def one_line_error(done: subprocess.CompletedProcess) -> str:
    assert done.returncode != 0 and not done.stdout
    # Data-Juicer logs one INFO line when the pack is imported; ours is the only other line
    lines = [ln for ln in done.stderr.splitlines() if ln.strip() and not LOGURU_LINE.match(ln)]
    assert len(lines) == 1 and lines[0].startswith("mindgym-report: "), done.stderr
    return lines[0]


def test_missing_export_or_counts_fail_with_one_line(text_export, tmp_path):
    assert "export not found" in one_line_error(report_cli(str(tmp_path / "nope.jsonl")))
    lone = tmp_path / "lone" / "result.jsonl"
    lone.parent.mkdir()
    shutil.copy(text_export, lone)
    assert "no MindGYM counts for" in one_line_error(report_cli(str(lone)))
    assert "no MindGYM counts in" in one_line_error(report_cli(str(lone), "--work-dir", str(tmp_path)))
    (tmp_path / "empty").mkdir()
    assert "no .json/.jsonl files" in one_line_error(report_cli(str(tmp_path / "empty")))
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"a": 1}\nnot json\n')
    assert "not JSON lines" in one_line_error(report_cli(str(broken)))
    # a recipe that set its own work_dir: name the job folder
    job = next(d for d in text_export.parent.iterdir() if (d / "mindgym_counts").is_dir())
    done = report_cli(str(lone), "--work-dir", str(job), "--out", str(tmp_path / "r.html"))
    assert done.returncode == 0 and done.stdout.strip() == str(tmp_path / "r.html"), done.stderr[-2000:]
