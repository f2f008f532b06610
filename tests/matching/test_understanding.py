"""Free text → skill codes, with what was not understood."""

import pytest

from service.matching.understanding import SkillVocabulary
from service.taxonomy.services import Taxonomy


@pytest.fixture(scope="module")
def vocabulary():
    import json

    from service.settings import PROJECT_ROOT

    data = json.loads((PROJECT_ROOT / "service/taxonomy/data/skills.json").read_text(encoding="utf-8"))
    taxonomy = Taxonomy(skills={s["code"]: s for s in data["skills"]}, occupations={}, districts={})
    return SkillVocabulary(taxonomy.skills)


def test_aliases_in_chinese_and_english_map_to_one_code(vocabulary):
    for text in ("照顾老人", "老人护理", "elderly care", "Elderly Care"):
        assert vocabulary.understand(text).codes == ["elderly_daily_care"], text
    for text in ("做粤菜", "粤菜烹饪", "Cantonese cooking"):
        assert vocabulary.understand(text).codes == ["cantonese_cooking"], text


def test_a_whole_request_is_split_and_reported(vocabulary):
    understood = vocabulary.understand("需要照顾刚出生的宝宝、会做粤菜，催乳; newborn care, 修电脑")
    assert "cantonese_cooking" in understood.codes
    assert "lactation_support" in understood.codes
    assert "newborn_care" in understood.codes
    assert understood.not_understood == ["修电脑"]
    for item in understood.matched:
        assert item["text"] and item["name_zh"] and 0 < item["score"] <= 100


def test_near_misses_are_matched_fuzzily_and_nonsense_is_not(vocabulary):
    assert vocabulary.understand("收纳整里").codes == ["home_organizing"]  # a typo
    assert vocabulary.understand("月嫂").codes == ["maternity_postpartum_care"]
    nothing = vocabulary.understand("abcxyz")
    assert nothing.codes == [] and nothing.not_understood == ["abcxyz"]
    assert vocabulary.understand("").matched == []
