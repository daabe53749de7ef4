"""How alike two concerns' words are: Chinese word segmentation (jieba) and fuzzy matching
of the words (rapidfuzz), in process.

Both sides are normalised the same way first (NFKC, so full-width digits and letters are
plain; lower case; the Chinese digits 〇一二三四五六七八九两 as 0-9), so "五号楼" and "5号楼"
are one word; particles and punctuation are dropped. Words are compared as sets, so word
order does not matter (token_set_ratio).
"""

from __future__ import annotations

import logging
import threading
import unicodedata

import jieba
from rapidfuzz import fuzz

_DIGITS = str.maketrans("〇零一二三四五六七八九两", "001234567892")
# Words that say nothing about the matter.
_STOP = frozenset(
    [
        "的",
        "了",
        "在",
        "是",
        "有",
        "和",
        "也",
        "都",
        "就",
        "很",
        "我",
        "你",
        "他",
        "她",
        "们",
        "吗",
        "呢",
        "啊",
        "吧",
        "着",
        "把",
        "被",
        "给",
        "又",
        "还",
        "已经",
        "一直",
    ]
)
# A community's own words, so jieba keeps them whole ("路灯" "不亮", not "路" "灯不亮"), and
# dictionary entries that swallow them.
_VOCABULARY_TEXT = (
    "路灯 不亮 楼道 堆放 杂物 漏水 渗水 电梯 停车 垃圾 清运 "
    "噪音 扰民 物业 下水道 堵塞 绿化 占道 消防通道 充电 电动车 "
    "飞线 高空抛物 井盖 积水 供暖 燃气 门禁 监控 小区 门口 "
    "单元"
)
VOCABULARY = tuple(_VOCABULARY_TEXT.split())
_SWALLOWING = ("灯不亮", "周不亮")
_ready = threading.Lock()
_loaded = False
# Title words weigh more than the description's: a title names the matter.
TITLE_WEIGHT = 0.6


def _load() -> None:
    global _loaded
    with _ready:
        if not _loaded:
            jieba.setLogLevel(logging.WARNING)
            jieba.initialize()
            for word in _SWALLOWING:
                jieba.del_word(word)
            for word in VOCABULARY:
                jieba.add_word(word, freq=100_000)
            _loaded = True


def words(text: str) -> str:
    """The text's words, normalised, deduplicated and sorted, joined by spaces."""
    return " ".join(sorted(_word_set(text)))


def title_and_all_words(title: str, description: str) -> tuple[str, str]:
    """`words(title)` and `words(f"{title} {description}")`, the title cut only once: a
    space always ends a segment, so the whole text's words are the two parts' together."""
    in_title = _word_set(title)
    return " ".join(sorted(in_title)), " ".join(sorted(in_title | _word_set(description)))


def _word_set(text: str) -> set[str]:
    if not _loaded:
        _load()
    clean = unicodedata.normalize("NFKC", text).lower().translate(_DIGITS)
    return {
        w.strip()
        # Without HMM: only dictionary words, so the same text always cuts the same way.
        for w in jieba.lcut(clean, HMM=False)
        if w.strip() and w.strip() not in _STOP and any(c.isalnum() for c in w)
    }


def score(title_words: str, all_words: str, other_title: str, other_all: str) -> float:
    """0..1: how alike two concerns' words are (titles weighed more)."""
    titles = fuzz.token_set_ratio(title_words, other_title) / 100
    everything = fuzz.token_set_ratio(all_words, other_all) / 100
    return round(TITLE_WEIGHT * titles + (1 - TITLE_WEIGHT) * everything, 3)
