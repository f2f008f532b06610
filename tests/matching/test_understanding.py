"""Free text → skill codes, with what was not understood; implied terms; the labelled phrase sets."""

import json
from datetime import date

import pytest

from scripts import phrase_eval
from service.matching.implied import read_implied
from service.matching.understanding import SkillVocabulary, child_age_years
from service.settings import PROJECT_ROOT
from service.taxonomy.text import normalize


@pytest.fixture(scope="module")
def vocabulary():
    data = json.loads((PROJECT_ROOT / "service/taxonomy/data/skills.json").read_text(encoding="utf-8"))
    return SkillVocabulary({s["code"]: s for s in data["skills"]}, data["umbrellas"])


def test_aliases_in_chinese_and_english_map_to_one_code(vocabulary):
    for text in ("照顾老人", "老人护理", "elderly care", "Care for the elderly", "照顧老人"):
        assert vocabulary.understand(text).codes == ["elderly_daily_care"], text
    for text in ("会做粤菜", "做广东菜", "Cantonese cooking"):
        assert vocabulary.understand(text).codes == ["cantonese_cooking"], text


def test_a_whole_request_is_split_and_reported(vocabulary):
    understood = vocabulary.understand("需要照顾刚出生的宝宝、会做粤菜，催乳; newborn care, 修电脑")
    assert "cantonese_cooking" in understood.codes
    assert "lactation_support" in understood.codes
    assert "newborn_care" in understood.codes
    assert understood.not_understood == ["修电脑"]
    for item in understood.matched:
        assert item["name_zh"] and 0 < item["score"] <= 100


def test_one_phrase_carries_every_duty_it_names(vocabulary):
    assert vocabulary.understand("煲汤拖地").codes == ["cantonese_soup", "general_cleaning"]
    assert vocabulary.understand("喂饭兼陪散步").codes == ["elderly_feeding", "elderly_companionship"]
    assert vocabulary.understand("买菜煮饭拖地").codes == ["grocery_shopping", "home_cooking", "general_cleaning"]
    assert sorted(vocabulary.understand("老人中风半身不遂需要人翻身擦身").codes) == [
        "bedridden_care",
        "elderly_bathing_hygiene",
    ]


def test_umbrella_words_mean_their_usual_duties_unless_the_text_names_others(vocabulary):
    assert vocabulary.understand("找个保姆").codes == ["housework_general", "home_cooking"]
    assert vocabulary.understand("钟点工").codes == ["housework_general", "general_cleaning"]
    assert vocabulary.understand("月嫂").codes == ["maternity_postpartum_care", "newborn_care"]
    assert vocabulary.understand("陪诊").codes == ["medical_escort"]
    assert vocabulary.understand("护工").codes == ["hospital_companion_care"]
    # Once a duty is named, the umbrella word adds only its core duties.
    assert vocabulary.understand("请个钟点工打扫卫生").codes == ["general_cleaning"]
    assert vocabulary.understand("月嫂，会催乳").codes == [
        "maternity_postpartum_care",
        "newborn_care",
        "lactation_support",
    ]
    matched = vocabulary.understand("保姆").matched
    assert {m["source"] for m in matched} == {"umbrella"} and {m["text"] for m in matched} == {"保姆"}
    # An elder named with a household duty still needs looking after; with a care duty, that duty says it.
    assert vocabulary.understand("照顾80岁的老奶奶，做三餐").codes == ["elderly_daily_care", "home_cooking"]
    assert vocabulary.understand("老人痴呆，晚上不睡觉乱走").codes == ["dementia_care"]


def test_cantonese_traditional_and_english(vocabulary):
    assert vocabulary.understand("湊仔煮餸").codes == ["infant_care", "home_cooking"]
    assert vocabulary.understand("執屋洗衫").codes == ["general_cleaning", "laundry_ironing"]
    assert vocabulary.understand("陪阿婆去睇医生").codes == ["medical_escort"]
    assert vocabulary.understand("醫院陪護").codes == ["hospital_companion_care"]
    assert vocabulary.understand("walk my dog and do the laundry").codes == ["pet_care", "laundry_ironing"]


def test_homophone_typos_are_read_by_sound_and_nonsense_is_not(vocabulary):
    for typo, code in (
        ("照故老人", "elderly_daily_care"),
        ("擦玻离", "window_cleaning"),
        ("洗一服", "laundry_ironing"),
        ("接送孩纸", "school_pickup"),
    ):
        understood = vocabulary.understand(typo)
        assert understood.codes == [code], typo
        assert understood.matched[0]["source"] == "pinyin"
    assert vocabulary.understand("收纳整里").codes == ["home_organizing"]
    nothing = vocabulary.understand("abcxyz")
    assert nothing.codes == [] and nothing.not_understood == ["abcxyz"]
    assert vocabulary.understand("").matched == []
    # Context the reader cannot map is reported, never guessed.
    assert vocabulary.understand("修电脑").not_understood == ["修电脑"]


def test_a_two_character_homophone_needs_the_same_sound_but_for_a_retroflex_slip(vocabulary):
    # n / l and -n / -ng are folded for longer words only: 推拉 is a sliding door, not 推拿;
    # 前到 is arriving before, not 呛到; 足料 is plenty of soup ingredients, not 足疗 (same sound: kept out
    # by nothing but the soup around it, so only the two folds are asserted).
    assert vocabulary.understand("推拉门的玻璃要擦").codes == ["window_cleaning"]
    assert vocabulary.understand("推拉门很脏").codes == []
    assert "elderly_feeding" not in vocabulary.understand("七点前到家做饭").codes
    # The commonest slip, a flat for a retroflex initial, is still heard: 鼻食 is 鼻饲.
    assert vocabulary.understand("要会鼻食").codes == ["nasal_feeding"]


def test_meals_counted_before_the_meal_are_read_past(vocabulary):
    assert vocabulary.understand("每天来做一顿晚饭").codes == ["home_cooking"]
    # Not before another duty: "做三餐加家务" is still three meals and housework.
    assert set(vocabulary.understand("做三餐加家务").codes) == {"home_cooking", "housework_general"}


def test_a_duty_turned_down_is_left_out(vocabulary):
    understood = vocabulary.understand("不用做饭，只要打扫卫生")
    assert understood.codes == ["general_cleaning"]
    assert understood.not_understood == []
    assert vocabulary.understand("cook and clean, no ironing").codes == ["home_cooking", "general_cleaning"]


def test_a_childs_age_chooses_infant_or_child_care(vocabulary):
    assert child_age_years("带一岁半宝宝") == 1.5
    assert child_age_years("宝宝八个月") == pytest.approx(8 / 12)
    assert child_age_years("孩子上小学") == 6.0
    assert child_age_years("做饭") is None
    assert vocabulary.understand("带两岁的孩子").codes == ["infant_care"]
    assert vocabulary.understand("照看三岁的小孩").codes == ["child_care"]
    # A helper's title with duties listed adds housework and cooking, after the duties named.
    assert vocabulary.understand("找个住家阿姨，主要带一岁半宝宝，顺便做饭").codes == [
        "infant_care",
        "home_cooking",
        "housework_general",
    ]


TODAY = date(2026, 11, 27)


def test_implied_terms_are_read_with_their_evidence():
    assert read_implied("找个住家阿姨", today=TODAY) == {"live_in": True, "evidence": {"live_in": "住家"}}
    hourly = read_implied("钟点工，每周两次，每次三小时", today=TODAY)
    assert hourly["wage_unit"] == "hour" and hourly["live_in"] is False
    assert hourly["visits_per_week"] == 2 and hourly["hours_per_visit"] == 3 and hourly["hours_per_week"] == 6
    assert read_implied("不住家，按小时算", today=TODAY)["live_in"] is False
    assert read_implied("白班护工", today=TODAY)["shift"] == "day"
    assert read_implied("夜班陪护", today=TODAY)["shift"] == "night"
    overnight = read_implied("住家育儿嫂，带睡", today=TODAY)
    assert overnight["shift"] == "overnight" and overnight["live_in"] is True
    assert read_implied("早上8点到下午5点", today=TODAY)["hours"] == "08:00-17:00"
    assert read_implied("twice a week, 3 hours each", today=TODAY)["hours_per_week"] == 6
    assert read_implied("做饭拖地", today=TODAY) == {}


def test_a_due_date_is_the_next_one_ahead():
    assert read_implied("预产期 3月15号", today=TODAY)["due_date"] == "2027-03-15"
    assert read_implied("预产期是明年2月", today=TODAY)["due_date"] == "2027-02"
    assert read_implied("預產期12月20日", today=TODAY)["due_date"] == "2026-12-20"
    assert read_implied("预产期2027-01-08", today=TODAY)["due_date"] == "2027-01-08"
    assert "due_date" not in read_implied("预产期2月30号", today=TODAY)  # no such day
    assert read_implied("宝宝预计明年3月出生，找月嫂", today=TODAY)["due_date"] == "2027-03"
    assert read_implied("BB 1月10号左右出世", today=TODAY)["due_date"] == "2027-01-10"
    assert read_implied("confinement nanny, due in March", today=TODAY)["due_date"] == "2027-03"
    assert read_implied("周一到周五，白天", today=TODAY)["visits_per_week"] == 5
    assert "due_date" not in read_implied("宝宝3个月大", today=TODAY)


def test_the_labelled_phrases_are_read_with_high_recall_and_precision(capsys):
    tuning = phrase_eval.evaluate(phrase_eval.SETS["tuning"], phrase_eval.vocabulary())
    assert tuning.phrases >= 300
    assert tuning.recall >= 0.95, tuning.misses
    assert tuning.precision >= 0.95, tuning.misses
    # The held-out set is measured and printed, never tuned against; both figures come out of the script.
    scores = phrase_eval.main(["--quiet"])
    out = capsys.readouterr().out
    assert set(scores) == {"tuning", "holdout"} and scores["holdout"].phrases >= 100
    assert f"recall {tuning.recall:.3f}" in out
    scores = phrase_eval.main(["--quiet", "--set", "all"])
    # Floors a little below the figures of the seventh round (recall, precision); every set but
    # holdout10 is read (holdout9 in the seventh round; its blind figure was 0.856 / 0.815).
    floors = {
        "tuning": (0.985, 0.985),
        "holdout": (0.95, 0.96),
        "holdout2": (0.985, 0.985),
        "holdout3": (0.97, 0.975),
        "holdout4": (0.985, 0.95),
        "holdout5": (0.91, 0.90),
        "holdout6": (0.885, 0.905),
        "holdout7": (0.93, 0.905),
        "holdout8": (0.955, 0.885),
        "holdout9": (0.94, 0.855),  # read in round 7 (twice, merged)
        "holdout10": (0.875, 0.85),  # never read: measured blind
        "holdout10b": (0.87, 0.88),  # the same phrases, a second labeller's labels
        "generalise": (0.985, 0.99),
    }
    assert set(scores) == set(floors)
    assert scores["holdout2"].phrases >= 120 and scores["holdout3"].phrases >= 200
    assert scores["holdout4"].phrases >= 220 and scores["holdout5"].phrases >= 250
    assert scores["holdout6"].phrases >= 250 and scores["holdout7"].phrases >= 250
    assert scores["holdout8"].phrases >= 260 and scores["holdout9"].phrases >= 260
    assert scores["holdout10"].phrases >= 260
    assert scores["generalise"].phrases >= 100
    for name, (recall, precision) in floors.items():
        assert scores[name].recall >= recall and scores[name].precision >= precision, (name, scores[name].misses)
    out = capsys.readouterr().out
    assert all(f"{name}: " in out for name in floors)


def test_two_labellings_of_the_same_phrases_are_compared_phrase_by_phrase(capsys):
    itself = phrase_eval.agreement(phrase_eval.SETS["holdout10"], phrase_eval.SETS["holdout10"])
    assert (itself.recall, itself.precision, itself.phrases) == (1.0, 1.0, 260)
    second = phrase_eval.main(["--agree", "holdout10", "holdout10b"])["holdout10b"]
    assert second.phrases == 260 and second.false_positive + second.false_negative > 0
    assert "holdout10b against holdout10: 260 phrases" in capsys.readouterr().out


def test_the_phrase_sets_cover_every_category_and_style():
    for name, path in phrase_eval.SETS.items():
        rows = phrase_eval.load(path)
        assert {category for *_, category, _ in rows} == {"maternity", "household", "elderly", "medical"}, name
        styles = {style for *_, style in rows}
        assert {"mandarin", "cantonese", "traditional", "typo", "english"} <= styles, name


def test_words_are_read_by_class_not_one_phrase_at_a_time(vocabulary):
    # A verb keeps its meaning with a particle after it or said twice: 拖下地, 洗个澡, 散散步, 煮埋饭.
    assert vocabulary.understand("拖下地，抹吓台").codes == ["general_cleaning"]
    assert vocabulary.understand("陪佢散散步，聊聊天").codes == ["elderly_companionship"]
    assert vocabulary.understand("帮老人洗个澡").codes == ["elderly_bathing_hygiene"]
    # A two-character word with one character swapped for a homophone; a function character is no typo.
    for typo, code in (
        ("作饭", "home_cooking"),
        ("宠勿", "pet_care"),
        ("遛够", "pet_care"),
        ("黄胆", "infant_common_ailments"),
    ):
        assert vocabulary.understand(typo).codes == [code], typo
    assert vocabulary.understand("洗完再走").codes == []
    # A longer duty heard by sound beats the shorter exact words inside it.
    assert vocabulary.understand("做月子参").codes == ["confinement_meals"]


def test_the_person_cared_for_decides_a_shared_duty(vocabulary):
    assert vocabulary.understand("老人换尿片").codes == ["toileting_incontinence_care"]
    assert vocabulary.understand("宝宝换尿片，冲奶").codes == ["infant_care", "infant_feeding"]
    assert vocabulary.understand("宝宝饭要少盐").codes == ["infant_feeding"]
    assert vocabulary.understand("老人吃饭要人喂").codes == ["elderly_feeding"]
    assert vocabulary.understand("给狗狗洗澡").codes == ["pet_care"]
    assert vocabulary.understand("插胃管的老人要喂食").codes == ["nasal_feeding"]
    # A count between the verb and the person is read past; a duration or an age is not a count.
    assert vocabulary.understand("每日湊两个细路").codes == ["child_care"]
    assert vocabulary.understand("照顾一位瘫痪老人").codes == ["bedridden_care"]
    assert vocabulary.understand("宝宝三个月大").codes == ["infant_care"]
    # Words for a new mother mean postpartum care unless a maternity duty is named.
    assert vocabulary.understand("剖腹产，需要人照顾").codes == ["maternity_postpartum_care"]
    assert vocabulary.understand("产后腹直肌分离").codes == ["postpartum_recovery"]


def test_a_negation_reaches_over_a_helper_word(vocabulary):
    understood = vocabulary.understand("不用帮忙做饭，只要拖下地")
    assert understood.codes == ["general_cleaning"] and understood.not_understood == []
    assert vocabulary.understand("No need to cook, just clean the flat").codes == ["general_cleaning"]
    assert vocabulary.understand("陪老人看病，不是陪聊天").codes == ["medical_escort"]


@pytest.mark.parametrize(
    ("text", "window"),
    [
        ("预产期12月中", ("2026-12-11", "2026-12-20")),
        ("预产期2027年1月5日左右", ("2026-12-29", "2027-01-12")),
        ("明年3月初生", ("2027-03-01", "2027-03-10")),
        ("due in March", ("2027-03-01", "2027-03-31")),
        ("baby due late February", ("2027-02-21", "2027-02-28")),
        ("due around March 3", ("2027-02-24", "2027-03-10")),
        ("预产期 3月15号", ("2027-03-15", "2027-03-15")),
        ("預產期三月初", ("2027-03-01", "2027-03-10")),
        ("预产期下个月底", ("2026-12-21", "2026-12-31")),
        ("宝宝预计12月中旬出生", ("2026-12-11", "2026-12-20")),
    ],
)
def test_a_due_date_implies_the_due_date_window(text, window):
    implied = read_implied(text, today=TODAY)
    assert (implied["due_date_from"], implied["due_date_to"]) == window
    # The words it was read from are shown with it, qualifier included.
    assert implied["evidence"]["due_date_from"] == implied["evidence"]["due_date_to"]
    for word in ("中", "左右", "初", "late", "around", "底"):
        if word in normalize(text):
            assert word in implied["evidence"]["due_date_from"], text


def test_relative_due_dates_are_read_against_the_day_the_request_was_written():
    assert read_implied("预产期下个月", today=date(2026, 12, 30))["due_date_from"] == "2027-01-01"
    assert read_implied("预产期明年2月", today=date(2027, 1, 3))["due_date_from"] == "2028-02-01"
    assert "due_date_from" not in read_implied("宝宝3个月大", today=TODAY)


@pytest.mark.parametrize(
    "text",
    ["预产期9999-12-30左右", "预产期0001-01-02左右", "预产期9999年12月30日左右", "预产期2020年3月", "预产期2035-05"],
)
def test_a_due_date_in_an_implausible_year_is_not_read(text):
    assert "due_date" not in read_implied(text, today=TODAY) and "due_date_from" not in read_implied(text, today=TODAY)


def test_due_dates_are_read_only_in_the_years_around_the_day_written():
    assert read_implied("预产期2025-12-28", today=TODAY)["due_date"] == "2025-12-28"
    assert read_implied("预产期2028年12月", today=TODAY)["due_date_from"] == "2028-12-01"
    assert "due_date" not in read_implied("预产期2029年1月", today=TODAY)


@pytest.mark.parametrize(
    "text", ["先生下个月出差", "学生下个月开学", "卫生下个月要搞", "rent is due next month", "老人下个月生日"]
)
def test_a_relative_month_without_a_word_for_the_birth_is_not_a_due_date(text):
    assert "due_date_from" not in read_implied(text, today=TODAY)


def test_a_relative_month_next_to_a_word_for_the_birth_is_a_due_date():
    for text in ("预产期下个月", "宝宝下个月出生", "下个月底生宝宝", "baby due next month", "会生在下个月"):
        assert read_implied(text, today=TODAY)["due_date"] == "2026-12", text
    late = read_implied("宝宝下个月底出生", today=TODAY)
    assert (late["due_date_from"], late["due_date_to"]) == ("2026-12-21", "2026-12-31")


def test_an_explicit_due_date_wins_over_a_relative_month_in_the_same_text():
    implied = read_implied("预产期是3月15日，先生下个月出差", today=TODAY)
    assert (implied["due_date_from"], implied["due_date_to"]) == ("2027-03-15", "2027-03-15")
    implied = read_implied("预产期下个月，奶奶3月生日", today=TODAY)
    assert implied["due_date"] == "2026-12"


@pytest.mark.parametrize(
    ("text", "window"),
    [
        ("experienced midwife, due in March", ("2027-03-01", "2027-03-31")),
        ("ask about pay, due March 3", ("2027-03-03", "2027-03-03")),
        ("yearly contract, due in March", ("2027-03-01", "2027-03-31")),
        ("late replies are fine, due in March", ("2027-03-01", "2027-03-31")),
        ("due in mid March", ("2027-03-11", "2027-03-20")),
        ("due in early march", ("2027-03-01", "2027-03-10")),
    ],
)
def test_english_qualifiers_count_only_as_whole_words_next_to_the_date(text, window):
    implied = read_implied(text, today=TODAY)
    assert (implied["due_date_from"], implied["due_date_to"]) == window


def test_a_verb_apart_from_its_object_still_names_the_duty(vocabulary):
    assert vocabulary.understand("做完饭把碗洗了").codes == ["home_cooking", "housework_general"]
    assert vocabulary.understand("把玻璃窗擦干净").codes == ["window_cleaning"]
    assert vocabulary.understand("衣服洗好晾好").codes == ["laundry_ironing"]
    assert vocabulary.understand("整理一下衣帽间").codes == ["home_organizing"]
    assert vocabulary.understand("执下个衣柜").codes == ["home_organizing"]
    assert vocabulary.understand("哄他睡觉").codes == ["infant_sleep_care"]
    # An object with no verb of its own near it names nothing.
    assert vocabulary.understand("碗很多").codes == []
    # A person between a verb and the rest is not heard by sound: 陪他度 is no typo of 陪他读.
    assert "homework_tutoring" not in vocabulary.understand("陪他度过最后的时间").codes


def test_a_persons_thing_is_no_one_cared_for(vocabulary):
    assert vocabulary.understand("儿童房要收纳整理").codes == ["home_organizing"]
    assert vocabulary.understand("孩子的衣服要手洗").codes == ["laundry_ironing"]
    assert vocabulary.understand("家里两个孩子，要洗衣服").codes == ["child_care", "laundry_ironing"]


def test_a_taste_is_an_elders_diet_only_when_an_elder_is_named(vocabulary):
    assert vocabulary.understand("口味清淡，会做家常菜").codes == ["home_cooking"]
    assert vocabulary.understand("老人饭菜要清淡").codes == ["elderly_diet"]
    assert vocabulary.understand("全家控糖").codes == ["nutrition_meal_planning"]
    assert vocabulary.understand("宝宝饭要少盐").codes == ["infant_feeding"]


def test_cleaning_goes_with_the_thing_the_text_names(vocabulary):
    assert vocabulary.understand("有导尿管，每天要清洁").codes == ["catheter_stoma_care"]
    assert vocabulary.understand("每天要清洁").codes == ["general_cleaning"]
    understood = vocabulary.understand("搬屋前大清洁，焗炉雪柜都要抹")
    assert understood.codes == ["deep_cleaning", "appliance_cleaning"]
    assert not any("焗炉" in words for words in understood.not_understood)  # the appliance was understood
    assert vocabulary.understand("Clean the microwave and the fridge").codes == ["appliance_cleaning"]
    # An appliance with no cleaning asked is not cleaned.
    assert vocabulary.understand("会用烤箱做蛋糕").codes == ["western_baking"]


def test_ages_read_past_between_verb_and_person_and_on_both_sides_of_three(vocabulary):
    assert child_age_years("nanny for our 10-month-old") == pytest.approx(10 / 12)
    assert child_age_years("our 4-year-old son") == 4
    assert vocabulary.understand("Nanny for a 10-month-old boy").codes == ["infant_care"]
    assert vocabulary.understand("照顾三个月大的婴儿，会冲奶粉").codes == ["infant_care", "infant_feeding"]
    assert sorted(vocabulary.understand("大宝六岁，二宝一岁，都要带").codes) == ["child_care", "infant_care"]
    # With a newborn's care named, the baby's bath is the newborn's.
    assert vocabulary.understand("月嫂，会给宝宝洗澡").codes == ["maternity_postpartum_care", "newborn_care"]


def test_homophones_of_job_titles_but_not_of_numerals_or_home(vocabulary):
    assert vocabulary.understand("找个月扫").codes == ["maternity_postpartum_care", "newborn_care"]
    assert vocabulary.understand("三口人，做晚饭").codes == ["home_cooking"]
    assert vocabulary.understand("在家照顾老人").codes == ["elderly_daily_care"]


def test_leaving_hospital_yields_to_a_named_medical_duty(vocabulary):
    assert vocabulary.understand("刚出院，需要人照顾").codes == ["post_surgery_care"]
    assert vocabulary.understand("出院后还带着尿管，要会护理").codes == ["catheter_stoma_care"]


def test_a_word_under_two_skills_names_both(vocabulary):
    assert sorted(vocabulary.understand("晚上喂夜奶").codes) == ["infant_feeding", "infant_sleep_care"]


def test_getting_up_at_night_is_toileting_unless_the_help_is_spelled_out(vocabulary):
    assert vocabulary.understand("老人晚上要起夜").codes == ["toileting_incontinence_care"]
    assert vocabulary.understand("外公起夜容易摔跤").codes == ["fall_prevention"]


def test_english_tastes_and_textures_and_cooking_a_cuisine(vocabulary):
    assert vocabulary.understand("Cook soft, low-salt meals for grandpa").codes == ["elderly_diet"]
    assert vocabulary.understand("Cook healthy low-salt meals").codes == ["home_cooking", "nutrition_meal_planning"]
    # A texture is a diet only where food is spoken of; a hyphenated compound is not its first word.
    assert vocabulary.understand("soft-spoken helper for grandma").codes == ["elderly_daily_care"]
    assert vocabulary.understand("Cook western meals").codes == ["western_baking"]
    assert vocabulary.understand("给老人做饭要软烂").codes == ["elderly_diet"]


def test_a_cleaning_verb_with_a_room_is_cleaning(vocabulary):
    assert vocabulary.understand("拖客厅").codes == ["general_cleaning"]
    assert vocabulary.understand("扫一下卧室").codes == ["general_cleaning"]
    assert vocabulary.understand("阳台每周擦一遍").codes == ["general_cleaning"]
    assert vocabulary.understand("儿童房的衣柜要整理").codes == ["home_organizing"]


def test_after_school_is_a_time_and_fetching_a_child_is_the_school_run(vocabulary):
    assert vocabulary.understand("儿子五岁，放学以后帮忙看着").codes == ["child_care"]
    assert vocabulary.understand("接送kids上学").codes == ["school_pickup"]


def test_an_object_typed_with_a_homophone_before_its_verb(vocabulary):
    assert vocabulary.understand("衣福要洗干净").codes == ["laundry_ironing"]
    assert vocabulary.understand("衣服洗").codes == ["laundry_ironing"]
    assert vocabulary.understand("碗要洗干净").codes != ["appliance_cleaning"]


def test_playing_with_a_child_is_minding_the_child(vocabulary):
    assert vocabulary.understand("宝宝一岁半，白天陪玩").codes == ["infant_care"]
    assert vocabulary.understand("儿子四岁，需要人陪玩").codes == ["child_care"]
    assert vocabulary.understand("陪老人聊天").codes == ["elderly_companionship"]


def test_a_person_said_to_need_care_keeps_that_care_beside_other_duties(vocabulary):
    codes = vocabulary.understand("顺产后需要人照顾，再帮忙催奶").codes
    assert codes == ["maternity_postpartum_care", "lactation_support"]
    assert vocabulary.understand("Carer for my mum, first aid certificate").codes == ["elderly_daily_care", "first_aid"]
    # The person's condition says what the care is.
    assert vocabulary.understand("照顾我爸，他有阿尔茨海默病").codes == ["dementia_care"]


def test_a_person_cooked_for_or_driven_is_no_one_cared_for(vocabulary):
    # The one who eats what is cooked.
    assert vocabulary.understand("小儿子爱吃饺子，要会包").codes == ["northern_cooking"]
    assert vocabulary.understand("给女儿做辅食以外的饭菜").codes != []
    assert "child_care" not in vocabulary.understand("Bake bread for the children").codes
    assert vocabulary.understand("为奶奶煮饭").codes == ["home_cooking"]
    # Eating with no cooking asked says nothing: the child is still minded.
    assert vocabulary.understand("孩子五岁，爱吃零食，白天看着").codes == ["child_care"]
    # The one driven; both of two.
    assert vocabulary.understand("开车送外公外婆去饮早茶").codes[0] == "family_driver"
    assert "elderly_daily_care" not in vocabulary.understand("开车送外公外婆去饮早茶").codes
    assert vocabulary.understand("送孙子去小学").codes == ["school_pickup"]
    assert vocabulary.understand("送小孩去医院打疫苗").codes == ["medical_escort"]


def test_putting_away_mending_and_errands(vocabulary):
    assert vocabulary.understand("把夏天的衣服收起来").codes == ["home_organizing"]
    assert vocabulary.understand("执靓个柜桶").codes == ["home_organizing"]
    assert vocabulary.understand("外套掉扣子了").codes == ["sewing_mending"]
    assert vocabulary.understand("窗帘太长要改短").codes == ["sewing_mending"]
    assert vocabulary.understand("取快递，交水电费").codes == ["grocery_shopping"]


def test_after_a_birth_the_baby_is_a_newborn_and_cooking_is_confinement_cooking(vocabulary):
    assert vocabulary.understand("坐月子，要人煮饭").codes == ["maternity_postpartum_care", "confinement_meals"]
    codes = vocabulary.understand("剖腹产出院，照顾大人和宝宝").codes
    assert "post_surgery_care" not in codes and "newborn_care" in codes
    # Without a birth, a discharge is still after an operation, and cooking is home cooking.
    assert vocabulary.understand("刚出院，要人照顾").codes == ["post_surgery_care"]
    assert vocabulary.understand("三胞胎刚出生，要人换尿布").codes == ["newborn_care"]


def test_sleep_and_illness_are_a_baby_or_childs_only_when_one_is_named(vocabulary):
    assert vocabulary.understand("宝宝八个月，晚上闹觉").codes == ["infant_sleep_care"]
    assert vocabulary.understand("小朋友三岁，发热了").codes == ["infant_common_ailments"]
    # An elder's fever, or a mother's, is not a baby's.
    assert "infant_common_ailments" not in vocabulary.understand("奶奶发烧了，要人照顾").codes
    assert vocabulary.understand("涨奶，还发烧").codes == ["lactation_support"]
    assert vocabulary.understand("发烧").codes == []


def test_months_of_a_pregnancy_are_no_childs_age(vocabulary):
    assert child_age_years("怀孕八个月") is None
    assert child_age_years("宝宝八个月") == 8 / 12
    assert vocabulary.understand("怀孕八个月，要人打扫卫生").codes == ["pregnancy_care", "general_cleaning"]
    # A pregnancy names no baby yet: company with a pregnant wife is no baby's minding.
    assert "infant_care" not in vocabulary.understand("老婆怀孕了，陪她散步").codes


def test_company_kept_and_verbs_whose_object_is_understood(vocabulary):
    assert vocabulary.understand("爸爸退休了，想有人陪他们").codes == ["elderly_companionship"]
    assert vocabulary.understand("陪外婆去医院").codes == ["medical_escort"]
    assert vocabulary.understand("老人需要人陪着").codes == ["elderly_companionship"]
    assert vocabulary.understand("孙女两岁，晚上要人哄").codes == ["infant_sleep_care"]
    assert "infant_sleep_care" not in vocabulary.understand("老人脾气大，要人哄").codes
    assert vocabulary.understand("老人手没力，要人喂").codes == ["elderly_feeding"]
    assert vocabulary.understand("老人走路要扶着").codes == ["mobility_transfer"]
    assert vocabulary.understand("老人喝汤会呛").codes == ["elderly_feeding"]
    assert vocabulary.understand("每天帮爷爷洗漱").codes == ["elderly_bathing_hygiene"]
    # A reminder is a medication reminder only where medicine is spoken of.
    assert vocabulary.understand("药要按时吃，记得提醒").codes == ["medication_reminder"]
    assert vocabulary.understand("提醒他喝水").codes != ["medication_reminder"]


def test_english_care_words(vocabulary):
    assert vocabulary.understand("Help with dressing and showering").codes == [
        "elderly_daily_care",
        "elderly_bathing_hygiene",
    ]
    assert vocabulary.understand("wound dressing every day").codes == ["pressure_sore_wound_care"]
    assert vocabulary.understand("a wound on her leg that needs dressing").codes == ["pressure_sore_wound_care"]
    assert vocabulary.understand("help him in and out of bed").codes == ["mobility_transfer"]
    assert vocabulary.understand("Carer after a hip replacement").codes == ["post_surgery_care"]
    assert vocabulary.understand("Down syndrome, 20 years old").codes == ["disability_care"]
    assert vocabulary.understand("keto meal prep").codes == ["nutrition_meal_planning"]


def test_a_homophone_inside_a_word_or_after_a_function_word_is_no_typo(vocabulary):
    # 下起居 is 下 + 起居, not 下棋; 为老人 is for the elder, not 喂老人.
    assert "elderly_companionship" not in vocabulary.understand("照顾下起居").codes
    assert "elderly_feeding" not in vocabulary.understand("为老人煮粥").codes
    assert vocabulary.understand("卫生间有点滑").codes == []
    # Typos still are: 照故 for 照顾, 洗一服 for 洗衣服.
    assert vocabulary.understand("洗一服").codes == ["laundry_ironing"]
    assert vocabulary.understand("照故老人").codes == ["elderly_daily_care"]


def test_a_duty_told_by_its_situation(vocabulary):
    def codes(text: str) -> set[str]:
        return set(vocabulary.understand(text).codes)

    # Medicine with forgetting, watching or a set time, in one clause or the one beside it.
    assert "medication_reminder" in codes("外婆的药老是吃漏")
    assert "medication_reminder" in codes("阿公食开降糖药，一日两次，时间唔可以错")
    assert "medication_reminder" in codes("she forgets her meds")
    assert "medication_reminder" not in codes("去药房拎药，顺便买菜")
    assert "medication_reminder" not in codes("药不用盯着，她自己记得")
    # Food with a texture made for chewing: an adapted diet; not a broken bowl beside a meal.
    assert "elderly_diet" in codes("爷爷牙不好，菜要剁碎")
    assert "elderly_diet" not in codes("打烂咗个碗，饭都冇得食")
    # A bag on the belly is a stoma; 车 a person somewhere is driving, 车 a hem is sewing.
    assert "catheter_stoma_care" in codes("阿爷肚上面有个袋要换")
    assert "family_driver" in codes("逢星期日车两老去饮茶")
    assert "family_driver" not in codes("啲裤脚要车返短")
    # Pulling or helping a person up, or on stairs, is help moving.
    assert "mobility_transfer" in codes("婆婆起床要人拉")
    assert "mobility_transfer" in codes("每天协助爸爸上下楼梯")
    assert "mobility_transfer" not in codes("孩子每天早上要人叫起床")
    # Plants tended; a person in a vegetative state is no plant.
    assert "plant_care" in codes("露台啲盆栽要人打理")
    assert codes("照顾植物人") == {"bedridden_care"}
    # An operation with a discharge or "done" is care after surgery.
    assert "post_surgery_care" in codes("妈妈刚做完甲状腺手术")


def test_situation_words_and_a_wheelchair_beside_a_disability(vocabulary):
    assert vocabulary.understand("佢一出门口就认唔到路").codes == ["dementia_care"]
    assert vocabulary.understand("婆婆成日唔记得熄火").codes == ["dementia_care"]
    assert vocabulary.understand("舅父工伤截肢").codes == ["disability_care"]
    assert vocabulary.understand("She has a PEG tube").codes == ["nasal_feeding"]
    assert vocabulary.understand("爷爷昏迷半年").codes == ["bedridden_care"]
    assert set(vocabulary.understand("请个月姐").codes) == {"maternity_postpartum_care", "newborn_care"}
    assert vocabulary.understand("阿婆上个月喺屋企滑倒过").codes == ["fall_prevention"]
    # A wheelchair is help moving, unless the text says it is a disabled person's.
    assert vocabulary.understand("爷爷坐轮椅").codes == ["mobility_transfer"]
    assert vocabulary.understand("自闭症少年，坐轮椅").codes == ["disability_care"]
    # 膝头 (a knee) is no 洗头; an English range hood is cleaned when washing is asked.
    assert vocabulary.understand("膝头痛").codes == []
    assert vocabulary.understand("wash the range hood").codes == ["appliance_cleaning"]


def test_a_cook_described_by_a_cuisine_after_who_cooks_that_cuisine(vocabulary):
    assert vocabulary.understand("a cook who can do Sichuan food").codes == ["sichuan_hunan_cooking"]
    assert vocabulary.understand("someone to cook for us who knows Cantonese dishes").codes == ["cantonese_cooking"]
    # Without a cuisine after, cooking is cooking.
    assert "home_cooking" in vocabulary.understand("someone to cook and clean, who speaks English").codes


def test_an_illness_named_is_no_monitoring_a_reading_taken_is(vocabulary):
    def codes(text: str) -> set[str]:
        return set(vocabulary.understand(text).codes)

    assert "chronic_disease_monitoring" not in codes("舅舅有糖尿病，要人陪佢散步")
    assert "chronic_disease_monitoring" not in codes("grandma is diabetic")
    assert "chronic_disease_monitoring" in codes("血糖每晚要帮佢度")
    # The reading may be asked in the clause beside the illness.
    assert "chronic_disease_monitoring" in codes("姑妈高血压，每天早晚要记录")
    # Pulse and heart rate are vital signs.
    assert codes("每日量两次心跳") == {"vital_signs_monitoring"}
    assert codes("check his pulse") == {"vital_signs_monitoring"}


def test_a_hospital_named_in_passing_is_no_hospital_stay(vocabulary):
    assert "hospital_companion_care" not in vocabulary.understand("上周在医院拍了片，现在要人陪她聊天").codes
    assert "hospital_companion_care" in vocabulary.understand("爸爸还在医院，晚上要人陪床").codes


def test_situation_rows_for_falls_diet_rehabilitation_and_medicine(vocabulary):
    def codes(text: str) -> set[str]:
        return set(vocabulary.understand(text).codes)

    # A slippery floor is a fall to prevent; a slippery dish is not.
    assert codes("厨房地砖好滑") == {"fall_prevention"}
    assert "fall_prevention" not in codes("会做滑蛋")
    assert "fall_prevention" in codes("he slips in the shower sometimes")
    # Soft food in Cantonese words and in kitchen verbs.
    assert codes("啲粥要煲到腍") == {"elderly_diet"}
    assert codes("菜要搅烂") == {"elderly_diet"}
    # Exercise with a limb or a doctor is rehabilitation; exercise alone is not.
    assert codes("每日做吓脚部练习") == {"rehabilitation_exercise"}
    assert "rehabilitation_exercise" not in codes("小朋友练习钢琴")
    # Many medicines, or medicine at times of day, want a reminder.
    assert codes("药有好多种") == {"medication_reminder"}
    assert codes("药要饭后食") == {"medication_reminder"}


def test_in_bed_for_good_and_carer_and_toddler_titles(vocabulary):
    assert vocabulary.understand("公公成日喺床，郁唔到").codes == ["bedridden_care"]
    assert vocabulary.understand("外公基本在床上").codes == ["bedridden_care"]
    # A live-in carer cares for an elder at home, not in a hospital.
    assert vocabulary.understand("请个住家护工").codes == ["elderly_daily_care"]
    assert vocabulary.understand("looking for a live-in carer").codes == ["elderly_daily_care"]
    # A toddler is under three: an infant's care.
    assert vocabulary.understand("someone to watch our toddler").codes == ["infant_care"]
    assert "infant_care" in vocabulary.understand("找个育儿阿姨").codes


def test_a_duty_turned_down_after_it_is_named(vocabulary):
    assert vocabulary.understand("做饭搞卫生都不用").codes == []
    assert vocabulary.understand("洗衫唔使").codes == []
    # A negation with more after it is no refusal: "唔使太咸" says how to cook.
    assert vocabulary.understand("煮饭唔使太咸").codes == ["home_cooking"]


def test_words_that_hold_a_duty_word_name_none(vocabulary):
    # 山 of a place name is no typo of 伤 or 上; a diagnosis or a time holding a duty word is no duty.
    assert vocabulary.understand("家住东山口").codes == []
    assert vocabulary.understand("佢喺中山一院旁边住").codes == []
    assert vocabulary.understand("她有乳腺癌").codes == []
    assert vocabulary.understand("在康复期").codes == []
    # A discharge is care after surgery only when no elder's duty says what the care is.
    assert vocabulary.understand("刚出院").codes == ["post_surgery_care"]
    assert vocabulary.understand("爷爷出院后要人喂饭").codes == ["elderly_feeding"]


def test_after_a_birth_a_wound_or_a_day_in_bed_is_the_mothers(vocabulary):
    assert vocabulary.understand("剖腹产后刀口痛，下不了床").codes == ["maternity_postpartum_care"]
    # Wound care asked in so many words is still wound care.
    assert "pressure_sore_wound_care" in vocabulary.understand("顺产后伤口要换药").codes
    # Without a birth, a wound is wound care.
    assert vocabulary.understand("脚上有伤口").codes == ["pressure_sore_wound_care"]
    # 做月子饭 is the cooking, not 做月子 and a meal.
    assert "confinement_meals" in vocabulary.understand("要会做月子饭").codes


def test_play_and_a_wa_are_a_childs(vocabulary):
    assert set(vocabulary.understand("娃4岁，要人陪玩").codes) == {"child_care"}
    assert vocabulary.understand("阿公想有人陪打麻将").codes == ["elderly_companionship"]
    # 娃娃菜 is a vegetable.
    assert vocabulary.understand("炒娃娃菜").codes == []
