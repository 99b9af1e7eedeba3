"""The report page: one HTML file with inline CSS, inline SVG charts and images as data URIs; no scripts,
no fonts or anything else fetched. All text from the run is escaped (Jinja autoescape): it is model output."""

import base64
import io
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional

from jinja2 import Environment
from loguru import logger

THUMB_PX = 320
# installed fonts only, Latin first, then the common CJK families of each platform: nothing is downloaded
FONT_STACK = (
    'system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "DejaVu Sans", "Noto Sans CJK SC", '
    '"Source Han Sans SC", "PingFang SC", "Hiragino Sans GB", "Microsoft YaHei", "WenQuanYi Micro Hei", '
    '"WenQuanYi Zen Hei", "Droid Sans Fallback", sans-serif'
)

TEMPLATE = r"""<!DOCTYPE html>
<html lang="{{ lang }}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>MindGYM run report: {{ export_name }}</title>
<style>
:root { --ink: #1f2933; --muted: #616e7c; --line: #d9e2ec; --bar: #2f6fb0; --warn: #c2410c; --bg: #f7f9fb; }
body { margin: 0; background: var(--bg); color: var(--ink); line-height: 1.45; font-size: 15px;
  font-family: {{ font_stack | safe }}; }
main { max-width: 1180px; margin: 0 auto; padding: 24px 28px 60px; }
h1 { font-size: 26px; margin: 0 0 4px; }
h2 { font-size: 20px; margin: 34px 0 10px; border-bottom: 2px solid var(--line); }
h3 { font-size: 16px; margin: 16px 0 6px; }
.sub, .note { color: var(--muted); font-size: 13px; }
table { border-collapse: collapse; background: #fff; margin: 6px 0 10px; }
th, td { border: 1px solid var(--line); padding: 4px 9px; text-align: left; vertical-align: top; }
th { background: #eef2f6; font-weight: 600; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.dj td { background: #fbfbf4; }
.reasons { font-size: 13px; } .reasons span { display: inline-block; margin-right: 8px; }
.flag { color: var(--warn); }
.charts { display: flex; flex-wrap: wrap; gap: 18px; }
.chart { background: #fff; border: 1px solid var(--line); padding: 8px 10px; }
.bad { color: var(--warn); font-weight: 600; } .good { color: #15803d; font-weight: 600; }
.example { background: #fff; border: 1px solid var(--line); border-left: 4px solid var(--bar); padding: 10px 14px;
  margin: 14px 0; overflow-wrap: anywhere; }
.example .tags { color: var(--muted); font-size: 13px; }
.example .question { font-size: 16px; font-weight: 600; margin: 6px 0; }
.example img { max-width: {{ thumb_px }}px; max-height: {{ thumb_px }}px; border: 1px solid var(--line); float: right;
  margin: 0 0 8px 14px; }
.example ol { margin: 4px 0 8px; padding-left: 22px; }
.example .thinking { white-space: pre-wrap; color: #334e68; background: #f0f4f8; padding: 6px 8px; }
.example .answer { white-space: pre-wrap; }
.clear { clear: both; }
</style>
</head>
<body>
<main>
{% macro dash(v) %}{{ "—" if v is none else v }}{% endmacro %}
{% macro pct(s) %}{{ s.n }} of {{ s.of }}{% if s.pct is not none %} ({{ s.pct }}%){% endif %}{% endmacro %}
{% macro reasons(items) %}
  {% for r, n in items %}<span data-reason="{{ r }}">{{ r }}: {{ n }}</span>{% endfor %}
{% endmacro %}
{% macro card(e) %}
<article class="example" data-row="{{ e.id }}">
{% for img in e.images %}
{% if img.uri %}<img src="{{ img.uri }}" alt="{{ img.name }}">
{% else %}<p class="note">image not found: {{ img.name }}</p>{% endif %}
{% endfor %}
<div class="tags">{{ e.id }} · {{ e.area or "—" }} · {{ e.principle or "—" }} · {{ e.language }}
{% for k, v in e.scores %} · {{ k }} {{ v }}{% endfor %}
{% if e.failure %} · <span class="flag">{{ e.failure }}</span>{% endif %}</div>
<p class="question" lang="{{ e.language }}">{{ e.question }}</p>
<h3>Seed questions</h3>
<ol>
{% for s in e.sub_questions %}
<li><span class="seed-q">{{ s.question }}</span> → <em>{{ s.answer }}</em></li>
{% endfor %}
</ol>
{% if e.thinking %}<h3>Thinking</h3><div class="thinking">{{ e.thinking }}</div>{% endif %}
{% if e.answer %}<h3>Answer</h3><div class="answer">{{ e.answer }}</div>{% endif %}
{% if e.refused %}
<h3>Last refused reply</h3>
<p class="refused-why"><span class="flag">{{ e.refused.reason }}</span>: {{ e.refused.message }}</p>
<div class="thinking refused">{{ e.refused.reply }}</div>
{% endif %}
{% if e.attempts %}
<h3>Solver attempts</h3>
<ol class="attempts">
{% for a, ok in e.attempts %}
<li data-right="{{ ok | lower }}"><span class="{{ 'good' if ok else 'bad' }}">{{ "right" if ok else "wrong" }}</span>
{{ a or "(no answer)" }}</li>
{% endfor %}
</ol>
{% endif %}
<div class="clear"></div>
</article>
{% endmacro %}
{% macro hist(title, key, bins) %}
{% set top = [bins | map(attribute=1) | max if bins else 0, 1] | max %}
{% set w = [60 + bins | length * 56, 240] | max %}
<svg class="hist" data-chart="{{ key }}" width="{{ w }}" height="200" viewBox="0 0 {{ w }} 200" role="img"
  aria-label="{{ title }} histogram">
<text x="8" y="16" font-size="14" font-weight="600" fill="#1f2933">{{ title }}</text>
<line x1="30" y1="160" x2="{{ w - 10 }}" y2="160" stroke="#9aa5b1"/>
{% for label, count in bins %}
{% set h = (120 * count / top) | round(1) %}
{% set x = 40 + loop.index0 * 56 %}
<g data-bin="{{ label }}" data-count="{{ count }}">
<rect x="{{ x }}" y="{{ 160 - h }}" width="40" height="{{ h }}"
  fill="{{ '#2f6fb0' if label[0] in '0123456789' else '#c2410c' }}"/>
<text x="{{ x + 20 }}" y="{{ 154 - h }}" font-size="12" text-anchor="middle" fill="#1f2933">{{ count }}</text>
<text x="{{ x + 20 }}" y="176" font-size="11" text-anchor="middle" fill="#616e7c">{{ label }}</text>
</g>
{% endfor %}
{% if not bins %}<text x="40" y="100" font-size="13" fill="#616e7c">no values</text>{% endif %}
</svg>
{% endmacro %}

<h1>MindGYM run report</h1>
<p class="sub">Export <code>{{ export }}</code> · {{ rows }} records · job folder <code>{{ job_dir }}</code> ·
executor {{ cost.executor }}
{% if cost.wall_seconds is not none %} · wall time {{ cost.wall_seconds }} s{% endif %}</p>

<section id="funnel">
<h2>Funnel by op</h2>
{% set widest = [funnel | map(attribute='rows_in') | select('number') | max if funnel else 0, 1] | max %}
<svg data-chart="funnel" width="760" height="{{ 16 + funnel | length * 26 }}" role="img"
  aria-label="rows after each op">
{% for s in funnel %}
{% set y = 8 + loop.index0 * 26 %}
{% set bar = (400 * (s.rows_out or 0) / widest) | round(1) %}
<text x="0" y="{{ y + 15 }}" font-size="12" fill="#1f2933">{{ s.index }}. {{ s.op }}</text>
<rect x="300" y="{{ y }}" width="{{ bar }}" height="18" fill="{{ '#2f6fb0' if s.mindgym else '#8d99ae' }}"/>
<text x="{{ 306 + bar }}" y="{{ y + 14 }}" font-size="12" fill="#1f2933">{{ dash(s.rows_out) }}</text>
{% endfor %}
</svg>
<table>
<tr><th>#</th><th>op</th><th class="n">rows in</th><th class="n">kept / out</th><th class="n">dropped</th>
<th>dropped by reason</th><th>flagged by reason</th><th class="n">seconds</th><th>rows from</th></tr>
{% for s in funnel %}
<tr data-op="{{ s.op }}" data-index="{{ s.index }}"{% if not s.mindgym %} class="dj"{% endif %}>
<td>{{ s.index }}</td>
<td>{{ s.op }}{% if not s.mindgym %} <span class="note">(Data-Juicer)</span>{% endif %}</td>
<td class="n" data-k="rows_in">{{ dash(s.rows_in) }}</td>
<td class="n" data-k="kept">{{ dash(s.kept) }}</td>
<td class="n" data-k="dropped">{{ s.dropped_total }}</td>
<td class="reasons">{{ reasons(s.dropped) }}</td>
<td class="reasons flag">{{ reasons(s.flagged) }}</td>
<td class="n">{{ dash(s.seconds) }}</td>
<td class="note">{{ s.source }}</td></tr>
{% endfor %}
</table>
<p class="note">MindGYM ops: their own per-op counts (<code>mindgym_counts/</code>). Data-Juicer ops: rows left from
Data-Juicer's log line for the op (default executor), else the rows the next op read in, or the export when last.</p>
</section>

<section id="coverage">
<h2>Coverage</h2>
<table>
<tr><th>reasoning area \ principle</th>
{% for p in coverage.principles %}<th class="n">{{ p }}</th>{% endfor %}
<th class="n">total</th></tr>
{% for a in coverage.areas %}
<tr><th>{{ a }}</th>
{% for p in coverage.principles %}
<td class="n" data-area="{{ a }}" data-principle="{{ p }}">{{ coverage.cells[a][p] }}</td>
{% endfor %}
<td class="n" data-area-total="{{ a }}">{{ coverage.area_totals[a] }}</td></tr>
{% endfor %}
<tr><th>total</th>
{% for p in coverage.principles %}
<td class="n" data-principle-total="{{ p }}">{{ coverage.principle_totals[p] }}</td>
{% endfor %}
<td class="n">{{ rows }}</td></tr>
</table>
<p>Language:
{% for lang, n in coverage.languages %}
<span data-lang="{{ lang }}">{{ lang }}: {{ n }}</span>{% if not loop.last %}, {% endif %}
{% endfor %}
{% if coverage.images %} · <span data-k="image_rows">{{ coverage.images }}</span> image rows{% endif %}</p>
</section>

<section id="scores">
<h2>Scores</h2>
<div class="charts">
{% for title, key, bins in scores.charts %}<div class="chart">{{ hist(title, key, bins) }}</div>{% endfor %}
</div>
<h3>Judge calibration</h3>
{% for cal in scores.calibrations %}
<p data-calibration="{{ 'ok' if cal.ok else 'blind' }}">
{% if cal.ok %}<span class="good">the judge ranks the shallow anchors below the deep ones</span>
{% else %}<span class="bad">the judge cannot tell shallow from deep anchors: depth/breadth filtering is blind</span>
{% endif %}
{% if cal.auc is defined %} · AUC {{ cal.auc }}{% endif %}
 · shallow {{ cal.shallow | join(", ") or "—" }} · deep {{ cal.deep | join(", ") or "—" }}</p>
{% else %}
<p class="note" data-calibration="none">This run has no judge calibration record.</p>
{% endfor %}
{% set ctl = scores.control %}{% set of = ctl.passed + ctl.failed %}{% if of %}
<p data-control="{{ 'failed' if ctl.failed else 'passed' }}" data-failed="{{ ctl.failed }}" data-of="{{ of }}">
{% if ctl.failed %}<span class="bad">the agreement judge called a non-answer right on {{ ctl.failed }} of
{{ of }} rows: there, the attempts only it could decide count as unsolved</span>
{% else %}<span class="good">the agreement judge called the non-answer wrong on all {{ of }} rows</span>{% endif %}</p>
{% endif %}
<h3>Verification</h3>
{% set ver = scores.verification %}
<p data-verification data-code="{{ ver.code }}" data-hard="{{ ver.hard }}" data-of="{{ ver.of }}">
{{ ver.code }} of {{ ver.of }} exported answers were worked out by code from seed answers found in the document;
the others are the model's word. {{ ver.hard }} of them are <b>verified-hard</b>: the solver solved them less often
than the band's lower edge, so they are hard for this model, not wrong, and were kept.</p>
</section>

<section id="substance">
<h2>Substance</h2>
<table>
<tr><th>check</th><th class="n">during generation</th><th class="n">in the export</th><th>what is counted</th></tr>
{% for label, key, gen, exp, what in substance.rows %}
<tr data-metric="{{ key }}"><th>{{ label }}</th>
<td class="n" data-k="generation" data-n="{{ gen.n }}" data-of="{{ gen.of }}">{{ pct(gen) }}</td>
<td class="n" data-k="export" data-n="{{ exp.n }}" data-of="{{ exp.of }}">{{ pct(exp) }}</td>
<td class="note">{{ what }}</td></tr>
{% endfor %}
</table>
<p class="note">During generation: reasons counted by the MindGYM ops over the {{ substance.attempted }} rows the
multi-hop op handled (duplicates: over the rows the dedup ops read). In the export: checked here on the records.</p>
{% if substance.flagged_in_export %}
<p>Flagged records kept in the export:
{% for r, n in substance.flagged_in_export %}<span class="flag">{{ r }}: {{ n }}</span> {% endfor %}</p>
{% endif %}
</section>

<section id="cost">
<h2>Cost</h2>
<table>
<tr><th>op</th><th class="n">prompt tokens</th><th class="n">completion tokens</th><th class="n">tokens</th>
<th class="n">requests</th><th class="n">cache hits</th><th class="n">tokens per kept row</th>
<th class="n">seconds</th></tr>
{% for o in cost.ops + [dict(cost.total, op="total", per_kept=none, seconds=cost.wall_seconds)] %}
<tr data-op="{{ o.op }}">{% if o.op == "total" %}<th>total</th>{% else %}<td>{{ o.op }}</td>{% endif %}
<td class="n">{{ o.prompt }}</td><td class="n">{{ o.completion }}</td>
<td class="n" data-k="tokens">{{ o.tokens }}</td><td class="n" data-k="requests">{{ o.requests }}</td>
<td class="n" data-k="cache_hits">{{ o.cache_hits }}</td><td class="n">{{ dash(o.per_kept) }}</td>
<td class="n">{{ dash(o.seconds) }}</td></tr>
{% endfor %}
</table>
<p><strong data-k="per_accepted">{{ dash(cost.per_accepted) }}</strong> tokens per accepted record
({{ cost.total.tokens }} tokens over {{ cost.accepted }} exported records).</p>
</section>

<section id="examples">
<h2>Examples</h2>
{% for e in examples %}
{{ card(e) }}
{% else %}
<p class="note">The export has no records.</p>
{% endfor %}
</section>

<section id="dropped">
<h2>Dropped rows</h2>
{% if dropped is none %}
<p class="note">Run the recipe with <code>--open_tracer true</code> to see here the rows each op dropped (up to
<code>trace_num</code>, default 10, per op) and why.</p>
{% else %}
{% for d in dropped %}
<div class="dropped" data-op="{{ d.op }}">
<h3>{{ d.index }}. {{ d.op }}: {{ d.rows | length }} traced{% if d.dropped is not none %} of
{{ d.dropped }} dropped{% endif %}</h3>
{% if d.reasons %}<p class="reasons">{{ reasons(d.reasons) }}</p>{% endif %}
{% for e in d.rows %}
{{ card(e) }}
{% endfor %}
</div>
{% else %}
<p class="note">The tracer kept no dropped rows: no op dropped one.</p>
{% endfor %}
{% endif %}
</section>
</main>
</body>
</html>
"""


def thumbnail(path: str, roots: Iterable[Path]) -> Optional[str]:
    """A downscaled JPEG data URI of the image, looked up as given, then under each root; None if unreadable."""
    from PIL import Image

    candidates = [Path(path)] if Path(path).is_absolute() else [Path(r) / path for r in roots]
    for p in candidates:
        if p.is_file():
            try:
                with Image.open(p) as im:
                    im = im.convert("RGB")
                    im.thumbnail((THUMB_PX, THUMB_PX))
                    buf = io.BytesIO()
                    im.save(buf, "JPEG", quality=82)
            except OSError as e:
                logger.warning(f"image {p} not shown: {e}")
                return None
            return "data:image/jpeg;base64," + base64.b64encode(buf.getvalue()).decode("ascii")
    return None


def render(context: Dict[str, Any], image_roots: List[Path]) -> str:
    for e in context["examples"] + [e for d in context.get("dropped") or [] for e in d["rows"]]:
        e["images"] = [{"name": Path(p).name, "uri": thumbnail(p, image_roots)} for p in e["images"]]
    env = Environment(autoescape=True, trim_blocks=True, lstrip_blocks=True)
    return env.from_string(TEMPLATE).render(thumb_px=THUMB_PX, font_stack=FONT_STACK, **context)
