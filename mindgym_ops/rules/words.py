"""Words and numbers, per language: the bottom layer every rule stands on.

One of each: `normalise` (case, punctuation, spaces), `stem` (English: the Snowball stemmer, irregular pasts
to their present first), `terms` (content words: English words less stop words, Chinese words from jieba less
stop words), `numbers` (digits, English number words through text2num, Chinese numerals through cn2an),
`same_number` (one tolerance), `answer_head` (an answer without its justification, English and Chinese
punctuation) and `contains` (a phrase standing in a text on word boundaries). The libraries are the
well-kept ones for each job; docs/substance.md says why each one."""

import logging
import re
from functools import lru_cache
from typing import FrozenSet, List, Optional, Set

import cn2an
import snowballstemmer
from text_to_num import alpha2digit

# a CJK ideograph (unified, extension A, compatibility): the one definition every text check uses
CJK_CHAR = r"[\u3400-\u9fff\uf900-\ufaff]"
CJK = re.compile(CJK_CHAR)
_NON_WORD = re.compile(r"[^\w\s]|_", re.UNICODE)
_SPACE = re.compile(r"\s+")

STOPWORDS = {
    "en": frozenset("""a an the of in on at to for from by with about into over after before during between and or but
    if then than that this these those is are was were be been being do does did has have had will would
    can could should may might must shall it its it's they them their there here what which who whom whose
    when where why how many much more most less least all any each every some no not only also very
    such as so both either neither one two first second he she his her we our you your i me my
    following given based total number""".split()),
    # "哪一年" (which year) stays a content word, as "year" does in English; 哪家 (which company) is "which"
    "zh": frozenset("""的 了 在 是 和 与 及 或 而 也 都 就 被 把 对 从 到 向 于 以 为 之 其 这 那 这个 那个 这些 那些 一个 哪
    哪个 哪一 哪家 哪些 什么 多少 几 吗 呢 吧 啊 谁 何 如何 怎样 怎么 为什么 是否 有 没有 个 位 名 次 中 上 下 里 时
    时候 以下 下列 总 共 请 问""".split()),  # fmt: skip
}

# the irregular English verbs a seed question uses, present -> simple past
VERB_PAST = {
    "begin": "began", "build": "built", "buy": "bought", "bring": "brought", "become": "became",
    "break": "broke", "catch": "caught", "come": "came", "do": "did", "fall": "fell", "find": "found",
    "fight": "fought", "get": "got", "give": "gave", "go": "went", "grow": "grew", "have": "had",
    "hold": "held", "keep": "kept", "know": "knew", "lead": "led", "leave": "left", "lose": "lost",
    "make": "made", "meet": "met", "pay": "paid", "put": "put", "rise": "rose", "run": "ran", "see": "saw",
    "sell": "sold", "send": "sent", "set": "set", "spend": "spent", "take": "took", "teach": "taught",
    "tell": "told", "think": "thought", "win": "won", "write": "wrote", "say": "said", "stand": "stood",
}  # fmt: skip
_PRESENT = {past: present for present, past in VERB_PAST.items()}
_ENGLISH = snowballstemmer.stemmer("english")


def normalise(text: str) -> str:
    """Lower case, punctuation to spaces, spaces folded; CJK characters stay (no spaces between them)."""
    return _SPACE.sub(" ", _NON_WORD.sub(" ", (text or "").lower())).strip()


def language_of(text: str) -> str:
    """zh when the text holds a CJK character, else en."""
    return "zh" if CJK.search(text or "") else "en"


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """An English word's stem (Snowball), an irregular past first taken to its present ("began" -> "begin"):
    "years" and "year", "started" and "start", "price", "prices" and "priced", "the ecosystem's" and
    "ecosystems" meet. A Chinese word is its own stem."""
    word = word.lower()
    if CJK.search(word):
        return word
    return _ENGLISH.stemWord(_PRESENT.get(word, word))


def _jieba():
    import jieba

    jieba.setLogLevel(logging.WARNING)  # it announces building its prefix dictionary on every first use
    return jieba


@lru_cache(maxsize=16384)
def words(text: str) -> tuple:
    """The words of a text, in order: English by spaces, Chinese segmented by jieba; normalised."""
    norm = normalise(text)
    if not CJK.search(norm):
        return tuple(norm.split())
    return tuple(w for w in (t.strip() for t in _jieba().lcut(norm)) if w)


_ORDINAL = re.compile(r"^第[零〇一二三四五六七八九十百千\d]+\w?$")  # 第一, 第一条: "first", a stop word in English too


def terms(text: str, stemmed: bool = False) -> Set[str]:
    """Content words: English words of two letters or more that are not stop words, Chinese words (jieba) that
    are not stop words or ordinals ("which" is a stop word and "year" is not: 哪家 is one, 哪一年 is not);
    `stemmed`: each through `stem`."""
    found = set()
    for w in words(text):
        if w in STOPWORDS["en"] or w in STOPWORDS["zh"] or (len(w) < 2 and not CJK.search(w)) or _ORDINAL.match(w):
            continue
        found.add(stem(w) if stemmed else w)
    return found


# ---- numbers

_DIGITS = re.compile(r"-?\d+(?:,\d{3})*(?:\.\d+)?|-?\.\d+")
_CN_NUMERAL = re.compile(
    r"[零〇一二三四五六七八九十两百千万亿]+(?=[年月日天个位名元次座条家人吨米岁小时分钟周倍户间]|$)"
)
_YEAR = re.compile(r"(?<!\d)([12]\d{3})(?!\d)")


def _number_words(text: str) -> str:
    """English number words as digits ("three years" -> "3 years"); a lone "one" stays a word."""
    if not re.search(r"[a-zA-Z]", text or ""):
        return text or ""
    try:
        return alpha2digit(text, "en")
    except (ValueError, RuntimeError):  # text2num refuses some malformed runs of number words
        return text


def _chinese_numerals(text: str) -> str:
    """Chinese numerals before a measure word, or at the end, as digits ("三年" -> "3年", "一千九百九十四年" ->
    "1994年"); "一个" and words such as "统一" stay as they are."""

    def digits(m: re.Match) -> str:
        try:
            value = cn2an.cn2an(m.group(0), "smart")
        except (ValueError, KeyError):
            return m.group(0)
        return str(int(value)) if float(value).is_integer() else str(value)

    if not CJK.search(text or ""):
        return text or ""
    return _CN_NUMERAL.sub(digits, text)


def in_digits(text: str) -> str:
    """The text with its number words and Chinese numerals written as digits."""
    return _chinese_numerals(_number_words(text or ""))


def numbers(text: str) -> List[float]:
    """The numbers a text writes, in order, in digits or in words ("$1,200 in 1994" -> [1200, 1994]; "three
    years" -> [3]; "相隔三年" -> [3])."""
    return [float(n.replace(",", "")) for n in _DIGITS.findall(in_digits(text))]


def years(text: str) -> List[int]:
    """The four-digit years a text writes (1000-2999), also before 年 ("1994年")."""
    return [int(y) for y in _YEAR.findall(in_digits(text))]


def same_number(a: float, b: float) -> bool:
    """Two numbers are the same answer when they differ by less than one part in 10,000 (rounding in writing)."""
    return abs(a - b) <= max(1e-6, 1e-4 * max(abs(a), abs(b)))


# ---- phrases and answers

# where an answer's justification starts: a sentence or clause break (".", ",": followed by a space, so "3.5" and
# "$80,000" stay whole), an opening bracket or dash, "because", "since", "as", "so", 因为, 所以, 由于
_ANSWER_HEAD = re.compile(r"[.;:,!?](?:\s|$)|[。；：，！？\n]|\s(?:because|since|as|so)\s|\s[-–—(]|因为|所以|由于")
TRIVIAL_ANSWERS = frozenset({"yes", "no", "true", "false", "none", "是", "否", "对", "错", "不是", "没有"})


def answer_head(answer: str, max_words: int = 8) -> str:
    """An answer without its justification: the text before its first sentence break or "because" ("48. Because
    120 x 0.4 = 48" -> "48"; "3年，因为……" -> "3年"); "" when that head is longer than `max_words` words."""
    m = _ANSWER_HEAD.search(answer or "")
    head = (answer[: m.start()] if m and m.start() > 0 else answer or "").strip()
    return head if len(words(head)) <= max_words else ""


def contains(haystack: str, needle: str) -> bool:
    """`needle` appears in `haystack` after normalising, on word boundaries (anywhere for CJK)."""
    n, h = normalise(needle), normalise(haystack)
    if not n:
        return False
    if CJK.search(n):
        return n.replace(" ", "") in h.replace(" ", "")
    # on word boundaries; a CJK character is one too ("1994年" holds 1994)
    return re.search(rf"(?<![a-z0-9_]){re.escape(n)}(?![a-z0-9_])", h) is not None


def distinctive(answer: str) -> bool:
    """Long or specific enough that finding it in a question is not a coincidence."""
    n = normalise(answer)
    if not n or n in TRIVIAL_ANSWERS:
        return False
    if CJK.search(n):
        return len(n.replace(" ", "")) >= 2
    return any(c.isdigit() for c in n) or (len(n) >= 4 and bool(terms(n)))


def stop_words(language: Optional[str] = None) -> FrozenSet[str]:
    """The stop words of a language, or of every language the rules know."""
    return STOPWORDS[language] if language else STOPWORDS["en"] | STOPWORDS["zh"]
