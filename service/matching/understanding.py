"""Free text from a job request → canonical skill codes, once per request.

Households write the way they speak: several duties in one breath ("煲汤拖地"), umbrella
words (保姆, 月嫂, 护工), Cantonese (湊仔, 执屋, 煮餸, 洗衫), traditional characters, typos
and English. The text is normalised (NFKC, traditional → simplified with OpenCC, lower
case) and cut into clauses; each clause is scanned from left to right for the longest
alias starting at each position, so every duty in it is found, not only the first. What
is left over is tried again by toneless pinyin (most typos are homophones: 照故 for 照顾)
and then fuzzily (rapidfuzz); what still matches nothing is reported back, never an error.

Umbrella words map to the duties they usually mean: their core duties always, their usual
ones only when the text names no other duty ("保姆" alone reads as housework and cooking,
"保姆带孩子" as child care). A duty after a negation ("不用做饭") is left out. An age in the
text moves child care between infant care (under three) and child care (three and over); ages on
both sides of three mean both.

Words are read by class rather than one phrase at a time: a verb apart from its object ("把碗洗了",
"整理一下衣帽间"), a person between a verb and the rest ("哄他睡觉"), a person's thing that is no
one cared for ("儿童房"), a taste that is an elder's diet only when an elder is named ("清淡"), a bare
cleaning verb that cleans the catheter or appliance the text names, a person cooked for or driven who is
no one cared for ("孩子爱吃面包", "开车接送老人"), a birth that makes the baby a newborn and the cooking
confinement cooking, sleep and illness words that are a baby's only when one is named ("发烧", "夜哭").
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass, field
from typing import ClassVar

from pypinyin import lazy_pinyin
from rapidfuzz import fuzz, process

from service.matching.situations import SITUATIONS
from service.taxonomy.text import normalize

_SPLIT = re.compile(
    r"[，,、；;。.!！？?\n/|+&:：()（）\[\]【】]+|\s{2,}|(?<!\bin)(?<!\bup)\s+(?:and|&|or|plus|also)\s+(?!out\b|down\b)|\s+-\s+"
    r"|和|及|还有|以及|并且|或者|同埋|加上|另外|顺便|顺手|顺带|同时|然后|兼(?!顾)|仲有|仲要"
)
# Words that carry no duty; they are cut from what is left over before it is tried fuzzily.
_FILLER = re.compile(
    "|".join(
        sorted(
            (
                "需要",
                "要求",
                "希望",
                "能够",
                "可以",
                "擅长",
                "帮忙",
                "帮手",
                "负责",
                "主要",
                "平时",
                "每天",
                "每日",
                "偶尔",
                "一点",
                "懂得",
                "照顾",
                "照看",
                "照料",
                "带",
                "湊",
                "凑",
                "睇",
                "看",
                "整",
                "唔该",
                "麻烦",
                "谢谢",
                "上门",
                "看护",
                "护理",
                "伺候",
                "打理",
                "找个",
                "找一个",
                "只要",
                "只需要",
                "只",
                "请个",
                "请一个",
                "搵个",
                "搵",
                "想请",
                "想找",
                "想",
                "请",
                "找",
                "能",
                "会",
                "识",
                "懂",
                "要",
                "做",
                "有经验",
                "经验",
                "专业",
                "的",
                "地",
                "得",
                "了",
                "啲",
                "咗",
                "嘅",
                "吖",
                "呀",
                "啊",
                "吧",
                "呢",
                "哦",
                "喔",
                "一下",
                "下",
                "个",
                "一个",
                "帮",
                "给",
                "俾",
                "佢",
                "他",
                "她",
                "我",
                "我们",
                "家里",
                "屋企",
                "家",
                "人",
                "还",
                "仲",
                "也",
                "都",
                "就",
                "再",
                "和",
                "跟",
                "对",
                "好",
                "最好",
                "一定",
                "必须",
                "阿姨",
                "保姆",
                "和",
                "让",
                "去",
                "来",
                "过来",
                "need",
                "needs",
                "needed",
                "someone",
                "somebody",
                "to",
                "for",
                "a",
                "an",
                "the",
                "my",
                "our",
                "of",
                "with",
                "and",
                "who",
                "can",
                "please",
                "looking",
                "help",
                "some",
                "is",
                "are",
                "be",
                "in",
                "on",
                "at",
                "i",
                "we",
                "look",
                "after",
                "take",
                "care",
                "of",
                "do",
                "will",
                "also",
                "would",
                "like",
                "just",
                "only",
                "mainly",
            ),
            key=len,
            reverse=True,
        )
    )
)
_NEGATIONS = (
    r"不用|不需要|不需|无需|无须|毋须|不必|不要|不是|不包括|不负责|唔使|唔驶|唔洗|唔需要|唔要|唔系|唔负责|免|"
    r"还没到|还没有到|没到|未到|未至于|不算|唔算|"
    r"no need to|don't need to|dont need to|doesn't need to|no|not|don't|dont|without"
)
# A word or two may stand between the negation and the duty: "不用帮忙做饭", "no need to cook".
_NEGATION = re.compile(r"(" + _NEGATIONS + r")\s*(?:帮忙|帮手|帮|给|去|再|负责|管|做|搞)?\s*$")
# A negation after the duties, ending the clause: "做饭打扫都不用", "煮饭唔使".
_NEGATION_AFTER = re.compile(
    r"[\s、,，和同及与跟+/&]*(?:都|也|就|的话|嘅话)?\s*(?:不用|不需要|不需|无需|不必|唔使|唔驶|唔洗|唔需要|"
    r"冇问题|没问题|没有问题|无问题|可以自己|自己可以|自己嚟|自己来)(?:了|啦|喇)?\s*"
)
_NEGATION_ONLY = re.compile(r"(" + _NEGATIONS + r"|只要|只需要)?\s*(?:帮忙|帮手|帮|给|去|再|负责|管|做|搞)?")
_CJK = re.compile(r"[\u3400-\u9fff\U00020000-\U0002ffff]")
_ASCII_WORD = re.compile(r"[a-z0-9]")
FUZZY_CUTOFF = 88.0
FUZZY_CUTOFF_CJK = 80.0
# Under three a child is an infant (育婴); from three on, child care.
_AGE_YEARS = re.compile(
    r"(\d{1,2}|[一二两三四五六七八九十]{1,3})\s*(?:周)?岁(半)?|(\d{1,2})\s*(?:[\s-]*years?[\s-]*old|[\s-]*yr?s?[\s-]*old|\s*yo\b)"
)
_AGE_MONTHS = re.compile(
    r"(\d{1,2}|[一二两三四五六七八九十]{1,3})\s*个(?:多)?月(?:大)?|满月|(\d{1,2})[\s-]*months?[\s-]*old"
)
# An age between a verb and the person ("照顾三个月大的婴儿", "带两岁的孩子") is read past, as a count is.
_AGE_BETWEEN = re.compile(
    r"(?<=[\u3400-\u9fff])(?:[一二两三四五六七八九十\d]{1,3}\s*(?:个多?月|周?岁半?)|满月)(?:大)?(?:的|嘅)?"
    r"(?=[\u3400-\u9fff])"
)
# A pregnancy word before a count of months: the months are the pregnancy's.
_PREGNANT_BEFORE = re.compile(r"(?:怀孕|怀咗|大肚|有咗|有身孕|孕|怀)(?:已经|已|了|咗|到|约|大约|差不多)?$")
_SCHOOL = re.compile(r"小学|初中|幼儿园|上学|放学|返学|读书|school|kindergarten")
_COUNT = re.compile(r"[一二两三四五六七八九十几\d]+\s*(?:个|只|位|名|口|条)")
_NUMERALS = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}
_INFANT, _CHILD = "infant_care", "child_care"
# Duties written the same way for an elder and a baby (换尿片, 洗澡, 喂饭): with a baby and no elder named,
# they are the baby's.
_FOR_A_BABY = {
    "toileting_incontinence_care": "infant_care",
    "elderly_bathing_hygiene": "infant_care",
    "elderly_feeding": "infant_feeding",
    "elderly_diet": "infant_feeding",
    "elderly_companionship": "infant_care",  # 陪玩 with a baby or child is minding them
    "health_massage": "infant_massage",  # 推拿, 按摩 of a baby
}
# Verbs a household bends: "拖下地", "执吓屋", "洗个澡", "散散步", "煮埋饭". Each alias that starts with one
# of them is also read with the particle after the verb, or with the verb said twice.
_VERBS = frozenset(
    "聊散洗擦抹拖扫煮做喂浇淋遛溜熨晾叠接送陪扶推量测翻剪刷吸补缝钉买执搞煲炖按捏揉拍晒收整带看睇湊凑哄氹冲泡换打抽练"
)
# The person a verb is done for may stand between the verb and the rest: "哄他睡觉", "氹个女瞓觉", "扶佢上厕所".
_PERSONS_BETWEEN = ("佢", "他", "她", "个仔", "个女", "bb", "宝宝")
_PARTICLES = ("下", "吓", "一下", "埋", "个", "好", "完", "下下", "靓", "一次", "两次", "三次", "几次")
# Particles of one verb: company kept on the way ("陪着去产检", "陪住去睇医生").
_PARTICLES_OF = {
    "陪": ("着", "住", "着去", "住去"),
    # A meal's measure word between the cooking verb and the food ("做顿饭", "煮餐饭"); with a number
    # before it ("做两顿饭") it is a count, read past by `_COUNT_BETWEEN`.
    "做": ("顿", "餐"),
    "煮": ("顿", "餐"),
}
_TWO_CHARACTER_VERBS = ("收拾", "打扫", "整理", "清洗", "清洁", "照顾", "照看", "打理", "辅导", "检查", "执拾")
# A verb apart from its object: the object put first ("把碗洗了", "衣服洗好", "窗户都要擦"), or a word or two
# between them ("整理一下衣帽间", "执吓啲衣柜"). What may stand between the object and a verb after it, and
# what may follow that verb; and what may stand between a verb and its object after it.
_BEFORE_VERB = re.compile(r"(?:都|也|全部|全|要|需要|得|再|一起|就|每天|每日|天天|每周|定期|经常)*")
_AFTER_VERB = re.compile(r"(?:好|完|干净|一下|一遍|一次|了|埋|吓|下|一|个)")
_BETWEEN_VERB_AND_OBJECT = re.compile(r"(?:一下|一遍|一次|一些|这些|那些|下|吓|啲|埋|个|好|靓)*")
# A word for a person that names a thing of theirs ("儿童房", "孩子的衣服", "kids' room") is no one cared for.
_THING_OF_A_PERSON = re.compile(
    r"(?:的|嘅|之|'s|')?\s*(?:房间|房|床|衣服|衣物|衫|校服|玩具|用品|座椅|餐椅|推车|书包|鞋|餐具|room|bedroom|clothes|toys)"
)
# Words for a taste ("清淡", "控糖") are an elder's diet, or a baby's food, only when one is named; otherwise
# the household's taste (nothing to add) or healthy eating.
_TASTE = {
    "清淡": (),
    "少盐": ("nutrition_meal_planning",),
    "低盐": ("nutrition_meal_planning",),
    "低糖": ("nutrition_meal_planning",),
    "控糖": ("nutrition_meal_planning",),
    "少盐少糖": ("nutrition_meal_planning",),
    "少糖少盐": ("nutrition_meal_planning",),
    "少油少盐": ("nutrition_meal_planning",),
    "low-salt": ("nutrition_meal_planning",),
    "low salt": ("nutrition_meal_planning",),
    "low-sugar": ("nutrition_meal_planning",),
    "low sugar": ("nutrition_meal_planning",),
    "low-sodium": ("nutrition_meal_planning",),
    "low sodium": ("nutrition_meal_planning",),
    "less salt": ("nutrition_meal_planning",),
    "soft": (),
    "mushy": (),
}
# A texture ("soft") is a diet only where food is spoken of; "soft-spoken" or "soft toys" are not.
_TEXTURES = frozenset(("soft", "mushy"))
# A reminder is a medication reminder where medicine is spoken of ("药很多……要人按时提醒").
_REMINDERS = ("提醒", "按时提醒", "remind", "reminders", "reminding")
_MEDICINE = re.compile(r"药|\b(?:medicine|medicines|medication|medications|pills|tablets)\b")
_FOOD = re.compile(r"\b(?:food|foods|meal|meals|diet|dishes|cook|cooking|rice|porridge|congee)\b|饭|菜|餐|食|粥")
# Cooking said of a cuisine or a diet is that cuisine or diet ("cook Western meals", "会煮粤菜", "cook soft
# food"); and a household cooking word in the clause that names an elder's diet is cooking for that diet
# ("给老人做饭要软烂").
_GENERIC_COOKING = "home_cooking"
# A hospital as the place of care, not the one who speaks ("医院说要插胃管").
_HOSPITAL = re.compile(r"医院(?!说|讲|话|建议|叫|让|要求)|病房|住院|医陪|\bhospital\b|\bward\b")
# Live-in help asked for to watch or care for someone ("要住家睇实佢", "找个住家，主要看着我爸"), not turned down
# ("不住家").
_LIVE_IN = re.compile(
    r"(?<![不唔免])(?<!唔使)(?<!不用)住家(?!阿姨|保姆|姐姐|阿姐|工|育儿|月嫂|司机|护)[^。；;]{0,6}?"
    r"(?:照顾|照看|看着|看住|睇实|睇住|守着|陪着|陪住)"
)
# "a cook who …", "someone to cook for us twice a week who …": the cook, described after.
_COOK_WHO = re.compile(r"(?:\s+[\w-]+){0,6}?\s+who\b")
_CUISINES = frozenset(
    (
        "cantonese_cooking",
        "cantonese_soup",
        "northern_cooking",
        "sichuan_hunan_cooking",
        "western_baking",
        "confinement_meals",
        "elderly_diet",
        "infant_feeding",
    )
)
# A cleaning verb on its own ("清洁", "clean") cleans the thing the text names: a catheter, a wound, a tube,
# an appliance. Only when none is named is it housework.
_BARE_CLEANING = frozenset(("清洁", "清洗", "清理", "消毒", "clean", "cleaning"))
_WASHING_A_PERSON = frozenset(("elderly_bathing_hygiene", "toileting_incontinence_care"))
_CLEANED_ITEMS = frozenset(
    ("catheter_stoma_care", "pressure_sore_wound_care", "nasal_feeding", "respiratory_care", "appliance_cleaning")
)
# An appliance named where cleaning is asked ("焗炉雪柜都要抹干净", "deep clean, oven and fridge too").
_APPLIANCE = re.compile(
    r"烤箱|焗炉|微波炉|冰箱|雪柜|冰柜|洗碗机|热水器|空调|冷气机|\b(?:oven|fridge|refrigerator|microwave|freezer|dishwasher|range hood|cooker hood|ac unit|aircon|air conditioner)s?\b"
)
_CLEANING_VERB = re.compile(r"[洗擦抹清刷]|\b(?:clean|wash|scrub|wipe|degrease)")
# A cleaning verb with a room for its object is cleaning ("拖客厅", "扫一下卧室", "客厅拖一遍").
_ROOM_CLEANING_VERBS = ("拖", "扫", "擦", "抹", "吸", "执", "打扫", "清扫", "清洁", "搞")
_ROOMS = (
    "客厅",
    "大厅",
    "饭厅",
    "餐厅",
    "卧室",
    "主卧",
    "次卧",
    "睡房",
    "房间",
    "书房",
    "儿童房",
    "阳台",
    "厨房",
    "卫生间",
    "洗手间",
    "浴室",
    "厕所",
    "走廊",
    "楼梯",
    "全屋",
    "地板",
    "厅",
    "房",
)
# A time after school is no school run ("放学后帮忙看着"); only fetching the child is (接, 接送).
_TIMES = ("放学后", "放学以后", "放学之后", "下课后", "上学后", "上学以后")
_PICKUP_VERBS = ("接送", "接", "送")
# A word for a person with a word for caring for them ("产后需要人照顾", "carer for elderly mum") names that
# person's care: it is kept when other duties are named too, unless one of them is the person's condition
# ("照顾我爸，他有阿尔茨海默病" is dementia care), which says what the care is.
_CARE_AFTER = re.compile(r"^[^，,。；;]{0,8}?(?:照顾|照看|照料|看护|护理|伺候|服侍|照应|兼顾|daily care|\bcare\b)")
# A person with a care verb turned down after ("小孩上学了不用带", "老人唔使睇") is no one to care for.
_NOT_MINDED = re.compile(r"^[^，,。；;]{0,8}?(?:不用|不需要|唔使|唔驶|唔需要|无需|不必)再?(?:带|管|照顾|看|湊|凑|睇)")
# A baby's age in days since birth: "出世十日", "出生才5天", "十天大".
_DAYS_OLD = re.compile(
    r"(?:出生|出世|生了|生咗|刚生)\s*(?:才|只有|刚)?\s*[\d一二两三四五六七八九十几]{1,3}\s*(?:天|日)|[\d一二两三四五六七八九十几]{1,3}\s*(?:天|日)大"
)
_CONDITIONS = frozenset(
    (
        "dementia_care",
        "bedridden_care",
        "disability_care",
        "palliative_care",
        "post_surgery_care",
        "hospital_companion_care",
        "chronic_disease_monitoring",
        "infant_common_ailments",
    )
)
# Words for a need whose help the text may spell out: getting up at night (起夜) is help to the toilet,
# unless the text says the help is against a fall or with getting up and walking.
_SPELLED_OUT = {
    "起夜": frozenset(("fall_prevention", "mobility_transfer")),
    "gets up at night": frozenset(("fall_prevention", "mobility_transfer")),
    "getting up at night": frozenset(("fall_prevention", "mobility_transfer")),
    # "dressing" is getting dressed, unless a wound is named ("a wound that needs dressing").
    "dressing": frozenset(("pressure_sore_wound_care",)),
    # A wheelchair is help moving, unless the text says it is a disabled person's ("脑瘫少年，轮椅").
    "轮椅": frozenset(("disability_care",)),
    "坐轮椅": frozenset(("disability_care",)),
    "wheelchair": frozenset(("disability_care",)),
    # An outing where the text asks for a driver ("识揸车……车阿嫲去饮茶") is where the driving takes the elder.
    **dict.fromkeys(
        ("散步", "散散步", "散下步", "晒太阳", "晒晒太阳", "饮茶", "去饮茶", "喝早茶", "去喝茶", "出去走走", "行街"),
        frozenset(("family_driver",)),
    ),
    # Tidying where the things to put away are named ("执拾衣柜同杂物房") is the organizing.
    **dict.fromkeys(("执拾", "收拾"), frozenset(("home_organizing",))),
}
_BLOOD_PRESSURE = re.compile(r"(?<!高)血压|blood pressure")
_CARE_BEFORE = re.compile(
    r"(?:照顾|照看|照料|看护|护理|伺候|服侍|兼顾|顾埋|\bcarer|\bcaregiver|\bcare|\blook(?:ing)? after)\s*(?:一下|下|埋|吓)?(?:for\s*)?(?:my\s*|our\s*)?$"
)
# Words said of anyone that are a duty only for a baby or child: sleeping ("细路唔肯瞓") and falling ill
# ("BB发烧咳"). With an elder named, or no one, they name nothing.
_WITH_A_BABY = {
    "infant_sleep_care": (
        "睡觉",
        "瞓觉",
        "唔瞓",
        "不睡",
        "不睡觉",
        "入睡",
        "睡眠",
        "抱睡",
        "抱着睡",
        "夜哭",
        "半夜醒",
        "总醒",
        "老醒",
        "易醒",
        "容易醒",
        "闹觉",
        "睡不好",
        "睡唔好",
        "一放就醒",
        "就醒",
        "又醒",
        "才睡",
        "才睡着",
        "难入睡",
        "难哄睡",
        "睡不踏实",
        "睡不安稳",
        "睡唔稳",
        "成晚醒",
        "夜闹",
        "夜里闹",
        "就闹",
        "又闹",
        "闹夜",
        "晚上闹",
        "半夜闹",
        "夜晚喊",
        "成晚喊",
        "keeps waking",
        "wakes up every",
        "放下就哭",
        "放低就喊",
        "naps",
        "nap",
        "bedtime",
        "sleeping",
    ),
    "infant_common_ailments": (
        "发烧",
        "发热",
        "咳",
        "咳嗽",
        "感冒",
        "拉肚子",
        "肚泻",
        "腹泻",
        "便秘",
        "呕吐",
        "生病",
        "病咗",
        "出疹",
        "流鼻涕",
        "鼻塞",
        "低烧",
        "发低烧",
        "出牙",
        "长牙",
        "teething",
        "fever",
        "cough",
        "coughing",
        "diarrhoea",
        "diarrhea",
        "sick",
    ),
}
# A mother's own duties imply a baby for shared words (洗澡, 喂饭) but say nothing of the baby's sleep or
# illness: "乳腺堵了，发烧" is the mother's fever.
_MOTHER_DUTIES = frozenset(
    ("maternity_postpartum_care", "pregnancy_care", "lactation_support", "postpartum_recovery", "confinement_meals")
)
# The older child of a family with a new baby ("找月嫂兼顾大宝").
_OLDER_CHILD = frozenset(("大宝", "大娃", "大仔", "大女", "老大"))
# The births after which a baby is a newborn and cooking is confinement cooking ("坐月子", "月嫂").
_CONFINEMENT = frozenset(("maternity_postpartum_care", "confinement_meals"))
# After a birth, a wound or a day in bed is the mother's and her postpartum care ("剖腹产，伤口疼到下不了床");
# a wound's care asked in so many words ("伤口护理", "换药") is still wound care.
_MOTHERS_AFTER_A_BIRTH = frozenset(
    ("伤口", "刀口", "下不了床", "下唔到床", "起不了床", "起唔到身", "不能下床", "卧床", "wound", "incision")
)
# Cooking, for a person named as the one who eats it ("孩子爱吃面包"): that person is not cared for.
_COOKING = frozenset(
    (
        "home_cooking",
        "cantonese_cooking",
        "cantonese_soup",
        "northern_cooking",
        "sichuan_hunan_cooking",
        "western_baking",
        "nutrition_meal_planning",
    )
)
_EATS_AFTER = re.compile(
    r"^\s*(?:的|嘅)?\s*(?:都|也|比较|很|好|最|就|平时|特别|非常|超|好)*\s*(?:想|爱|喜欢|钟意|中意|要|只|不|唔|挑|wants? to|likes? to|loves? to)?"
    r"\s*(?:吃|食|饮|喝|eat|eats|drinks?|like|likes|love|loves|enjoy|enjoys)"
    # Or said to be choosy about food or growing ("kids are picky eaters", "孩子在长身体").
    r"|^\s*(?:的|嘅)?\s*(?:都|也|正|在|正在)?\s*(?:挑食|偏食|长身体|are picky|is picky|are fussy|is fussy)"
)
_SERVED_BEFORE = re.compile(r"(?:\bfor|给|为|帮)\s*(?:the\s*|my\s*|our\s*)?$")
# A person driven somewhere ("开车接送老人", "drive grandma", Cantonese "要车阿嫲") is no one cared for.
_DRIVEN_BEFORE = re.compile(
    r"(?:(?:开车|揸车|驾车)\s*(?:接送|接|送|载|车)?|(?:要|帮手|帮|识|会)车|接送|送|载|\bdrive|\bdriving)"
    r"\s*(?:the\s*|my\s*|our\s*)?$"
)
# Keeping a person company: 陪 with the person and nothing after, or an outing ("陪他们", "陪阿爷去饮茶").
# It yields to a duty the company is for (a doctor's visit, homework, the school run).
_KEEPING_COMPANY = "陪"
_PRONOUNS = ("他", "她", "佢", "他们", "她们", "佢哋", "两老", "老两口")
_COMPANY_YIELDS = frozenset(
    ("medical", "homework_tutoring", "school_pickup", "early_education", "infant_sleep_care", "grocery_shopping")
)
# A verb at the end of its clause with its object understood: "要一口一口喂" is feeding, "需要有人扶" is help
# walking.
_BARE_VERB_AT_END = re.compile(r"(喂|扶|陪|哄)(?:住|着|下|一下|吓)?\s*$")
_BARE_VERBS = {
    "喂": "elderly_feeding",
    "扶": "mobility_transfer",
    "陪": "elderly_companionship",  # "妈妈需要人陪"; a baby's or child's minding when one is named
    "哄": "infant_sleep_care",
}
# Words that hold a duty word or sound like one but name none: 卫生间 is a room, not 卫生; 膝头 (a knee)
# is no 洗头.
# A diagnosis or a time holding a duty word names no duty either: 乳腺癌 is no breastfeeding help, 康复期 (a time
# of recovery) no exercise.
# Going out for tea (饮早茶) is company kept, no dim sum cooked; 帮手 (a helping hand) holds no 手洗.
# Ordinary words that sound like a duty word are no typos of it: a soup's ample ingredients (落足料) no 足疗,
# a couple (夫妻) no 扶起, stitches out (拆线) no 拆箱, food dropped (成日跌饭) no fall (a sound-alike that
# differs by an accent's fold, 推拉 / 推拿, is no typo by `_same_sound`).
_PLACES = (
    "卫生间",
    "洗手间",
    "膝头",
    "膝盖",
    "乳腺癌",
    "乳腺增生",
    "乳腺结节",
    "康复期",
    "娃娃菜",
    "饮早茶",
    "喝早茶",
    "吃早茶",
    "帮手",
    "半失能",
    "足料",
    "夫妻",
    "前来",
    "拆线",
    "跌饭",
    "跌餸",
    "跌嘢",
    "成日跌饭",
    "成日跌餸",
    "成日跌嘢",
)
# Duties written the same way for a person and a pet ("给狗狗洗澡"): with a pet and no person, the pet's.
_FOR_A_PET = {"elderly_bathing_hygiene": "pet_care", "elderly_feeding": "pet_care"}
# A count between a verb and its object ("湊两个细路", "照顾一位老人", "做一顿晚饭") is read past; not one
# before a unit of time or an age ("两个小时", "三个月").
_COUNT_BETWEEN = re.compile(
    r"(?<=[\u3400-\u9fff])[一二两三四五六七八九十几\d]{1,2}\s*(?:个|只|位|名|条)(?!小时|钟|月|星期|礼拜|周|半|多|天|年|岁)"
    r"(?=[\u3400-\u9fff])"
    # meals counted before the meal ("做一顿晚饭"), not before another duty ("做三餐加家务")
    r"|(?<=[\u3400-\u9fff])[一二两三四五六七八九十几\d]{1,2}\s*[顿餐](?=[早午晚中宵夜]?[饭餐])"
)
# A homophone of a two-character word is trusted only when the other character is kept and the swapped
# one is not a common function character ("洗完" is not "洗碗").
# Numerals and 家 are no typos either ("三口" is not 伤口, "家五" not 家务, "在家照顾" not 驾照), nor 山 of
# place names ("东山口" is not 伤口, "中山一院" not 上医院).
_FUNCTION_CHARS = frozenset(
    "的地得了完在是不也都就着过到要会和与给把被让从对向来去上下个一这那有没很太好二两三四五六七八九十几家为山咗嘅啲"
)


def chinese_number(token: str) -> int | None:
    if token.isdigit():
        return int(token)
    if not token or any(c not in _NUMERALS for c in token):
        return None
    if token == "十":
        return 10
    if token.startswith("十"):
        return 10 + _NUMERALS[token[1]]
    if token.endswith("十"):
        return _NUMERALS[token[0]] * 10
    if len(token) == 3 and token[1] == "十":
        return _NUMERALS[token[0]] * 10 + _NUMERALS[token[2]]
    return _NUMERALS[token] if len(token) == 1 else None


# Mandarin as typed by speakers of southern dialects: z/zh, c/ch, s/sh, n/l, -n/-ng.
# Flat for retroflex initials (饲 / 食): the commonest slip, trusted even in two-character words.
_RETROFLEX_FOLD = (
    (re.compile(r"^zh"), "z"),
    (re.compile(r"^ch"), "c"),
    (re.compile(r"^sh"), "s"),
)
# An accent's folds too (n / l, -n / -ng), for words of three characters and more.
_PINYIN_FOLD = (
    *_RETROFLEX_FOLD,
    (re.compile(r"^l"), "n"),
    (re.compile(r"ng$"), "n"),
)


def _syllable(token: str, folds: tuple[tuple[re.Pattern, str], ...] = _PINYIN_FOLD) -> str:
    for pattern, repl in folds:
        token = pattern.sub(repl, token)
    return token


def _same_sound(a: str, b: str) -> bool:
    """Whether two characters read the same toneless pinyin, folding only the retroflex
    initials (`_RETROFLEX_FOLD`), not an accent's n / l or -n / -ng."""
    a_sound, b_sound = ([_syllable(s, _RETROFLEX_FOLD) for s in lazy_pinyin(c, errors="ignore")] for c in (a, b))
    return a_sound == b_sound


def pinyin_key(text: str) -> tuple[str, ...] | None:
    """Folded toneless pinyin of an all-Chinese string; None if any character is not Chinese."""
    if not text or not all(_CJK.match(c) for c in text):
        return None
    syllables = lazy_pinyin(text, errors="ignore")
    if len(syllables) != len(text):
        return None
    return tuple(_syllable(s) for s in syllables)


@dataclass(frozen=True)
class Entry:
    codes: tuple[str, ...]
    usual: tuple[str, ...] = ()  # umbrella words only: added when nothing else is named
    umbrella: bool = False
    unless: frozenset[str] = frozenset()  # categories or codes whose mention drops the usual duties
    without_a_person: tuple[str, ...] | None = None  # taste words: the codes when no elder or baby is named
    with_a_baby: bool = False  # words said of anyone ("发烧", "瞓觉"): a duty only when a baby or child is named
    yields: frozenset[str] = frozenset()  # categories or codes whose mention says what this word was
    # A helper's title (住家保姆): its usual duties stand beside the duties named, unless one of these
    # categories or codes is named; None for any other word.
    titled: frozenset[str] | None = None


@dataclass(frozen=True)
class Understood:
    matched: list[dict]  # [{text, code, name_zh, score, source}]
    not_understood: list[str]
    implied: dict = field(default_factory=dict)

    @property
    def codes(self) -> list[str]:
        return list(dict.fromkeys(m["code"] for m in self.matched))

    def as_json(self) -> dict:
        return {"matched": self.matched, "not_understood": self.not_understood, "implied": self.implied}


@dataclass
class _Hit:
    text: str
    entry: Entry
    score: float
    source: str
    clause: int = 0
    cared_for: bool = False  # a word for a person with a word for caring for them ("老人需要照顾")
    served: bool = False  # a person cooked for or driven ("给孩子做饭", "开车接送老人")
    eats: bool = False  # a person said to eat or like something ("孩子爱吃面包"): cooked for, if cooking is named
    lives_with: bool = False  # an elder with a live-in helper asked for: the elder's daily care is kept


class SkillVocabulary:
    # Vocabularies built in this process, by their words (a build takes most of a second).
    _built: ClassVar[dict[str, SkillVocabulary]] = {}

    @classmethod
    def shared(cls, skills: dict[str, dict], umbrellas: list[dict] | None = None) -> SkillVocabulary:
        """The vocabulary of these words, built once per process (it is never changed after
        it is built; an app started again with the same taxonomy takes the same one)."""
        key = json.dumps([skills, umbrellas], sort_keys=True, ensure_ascii=False, default=str)
        found = cls._built.get(key)
        if found is None:
            if len(cls._built) >= 4:
                cls._built.clear()
            found = cls._built[key] = cls(skills, umbrellas)
        return found

    def __init__(self, skills: dict[str, dict], umbrellas: list[dict] | None = None) -> None:
        self._names = {code: skill["name_zh"] for code, skill in skills.items()}
        self._categories = {code: skill["category"] for code, skill in skills.items()}
        self._entries: dict[str, Entry] = {}
        for code, skill in skills.items():
            for alias in [skill["name_zh"], skill["name_en"], *skill["aliases"]]:
                key = normalize(alias).strip()
                known = self._entries.get(key)
                if key and known is None:
                    self._entries[key] = Entry((code,))
                elif key and code not in known.codes:  # type: ignore[union-attr]
                    # A word listed under two skills names both duties: 夜奶 is a feed, and a night's care.
                    self._entries[key] = Entry((*known.codes, code))  # type: ignore[union-attr]
        not_by_sound: set[str] = set()  # words made here from classes are not heard by sound
        # A cleaning verb with a room for its object ("拖客厅", "擦阳台"): cleaning.
        for cleaning in _ROOM_CLEANING_VERBS:
            for room in _ROOMS:
                if cleaning + room not in self._entries and "general_cleaning" in skills:
                    self._entries[cleaning + room] = Entry(("general_cleaning",))
                    not_by_sound.add(cleaning + room)
        # Fetching a child ("接送儿子", "接kids") is the school run.
        for umbrella in umbrellas or []:
            if _CHILD in umbrella.get("usual", ()) and "school_pickup" in skills:
                for word in umbrella["words"]:
                    for fetch in _PICKUP_VERBS:
                        key = fetch + normalize(word).strip()
                        if key not in self._entries:
                            # Taking a child (送孩子) somewhere named as a doctor's is no school run.
                            yields = frozenset(("medical",)) if fetch == "送" else frozenset()
                            self._entries[key] = Entry(("school_pickup",), yields=yields)
                            not_by_sound.add(key)
        # A time after school names no duty ("放学后帮忙看着" is no school run).
        for time in _TIMES:
            self._entries.setdefault(time, Entry(()))
        for key, without in _TASTE.items():
            if key in self._entries:
                self._entries[key] = Entry(self._entries[key].codes, without_a_person=without)
        # Words said of anyone that are a baby's or child's duty only when one is named ("发烧", "瞓觉").
        for code, words in _WITH_A_BABY.items():
            for word in words if code in skills else ():
                if word not in self._entries:
                    self._entries[word] = Entry((code,), with_a_baby=True)
                    not_by_sound.add(word)
        for word in _REMINDERS if "medication_reminder" in skills else ():
            if word not in self._entries:
                self._entries[word] = Entry(("medication_reminder",))
                not_by_sound.add(word)
        for place in _PLACES:
            if place not in self._entries:
                self._entries[place] = Entry(())
                not_by_sound.add(place)
        # Keeping an elder company ("陪阿爷", "陪他们"), unless the company is for a named duty.
        if "elderly_companionship" in skills:
            people = [w for u in umbrellas or [] if "elderly_daily_care" in u.get("usual", ()) for w in u["words"]]
            for person in [*people, *_PRONOUNS]:
                key = _KEEPING_COMPANY + normalize(person).strip()
                if key not in self._entries and _CJK.match(key[-1]):
                    self._entries[key] = Entry(("elderly_companionship",), yields=_COMPANY_YIELDS)
                    not_by_sound.add(key)
        # Verb + object aliases, by object, for a verb written apart from its object.
        self._verbs_by_object: dict[str, list[str]] = {}
        for key in self._entries:
            head = next((v for v in _TWO_CHARACTER_VERBS if key.startswith(v)), key[0] if key[0] in _VERBS else "")
            rest = key[len(head) :]
            if head and rest and all(_CJK.match(c) for c in rest):
                self._verbs_by_object.setdefault(rest, []).append(head)
        made = set(not_by_sound)  # nor tried fuzzily: "儿童房的" is no 扫儿童房
        with_a_person = not_by_sound  # not heard by sound: "陪他度" is no typo of 陪他读
        for key, entry in list(self._entries.items()):
            if len(key) >= 2 and key[0] in _VERBS and _CJK.match(key[1]):
                for particle in (*_PARTICLES, *_PARTICLES_OF.get(key[0], ())):
                    if key[0] + particle + key[1:] not in self._entries:
                        self._entries[key[0] + particle + key[1:]] = entry
                        with_a_person.add(key[0] + particle + key[1:])  # nor heard by sound: 希望找 is no 洗完澡
                for person in _PERSONS_BETWEEN:
                    if key[0] + person + key[1:] not in self._entries:
                        self._entries[key[0] + person + key[1:]] = entry
                        with_a_person.add(key[0] + person + key[1:])
                self._entries.setdefault(key[0] + key, entry)
            verb = next((v for v in _TWO_CHARACTER_VERBS if key.startswith(v) and len(key) > len(v)), None)
            if verb:
                for particle in _PARTICLES:
                    self._entries.setdefault(verb + particle + key[len(verb) :], entry)
        for umbrella in umbrellas or []:
            entry = Entry(
                tuple(umbrella["core"]),
                tuple(umbrella.get("usual", ())),
                umbrella=True,
                unless=frozenset(umbrella.get("unless", ())),
                titled=frozenset(umbrella["title_unless"]) if "title_unless" in umbrella else None,
            )
            for word in umbrella["words"]:
                self._entries[normalize(word).strip()] = entry  # an umbrella word outranks an alias
        # Longest first, so "老人护理" wins over a shorter alias inside it.
        self._by_first: dict[str, list[str]] = {}
        for key in sorted(self._entries, key=len, reverse=True):
            self._by_first.setdefault(key[0], []).append(key)
        # Each key's pinyin once (it is most of the vocabulary's build time).
        sounds = {key: pinyin_key(key) for key in self._entries}
        self._pinyin: dict[tuple[str, ...], str] = {}
        for key in sorted(self._entries, key=len, reverse=True):
            syllables = sounds[key] if key not in with_a_person else None
            # Two-syllable homophones are too common to trust (画画 / 化化); three and more are safe.
            if syllables and len(syllables) >= 3:
                self._pinyin.setdefault(syllables, key)
        self._pinyin_lengths = sorted({len(k) for k in self._pinyin}, reverse=True)
        # Two-character words inside the vocabulary's words, to tell a homophone from a word of its own.
        self._bigrams = {
            key[i : i + 2]
            for key in self._entries
            for i in range(len(key) - 1)
            if _CJK.match(key[i]) and _CJK.match(key[i + 1])
        }
        self._pinyin2: dict[tuple[str, ...], list[str]] = {}
        for key, entry in self._entries.items():
            syllables = sounds[key]
            # A job title with duties of its own (月嫂) is heard by sound too: 月扫; a word for a person is not.
            if (
                syllables
                and len(syllables) == 2
                and key not in not_by_sound
                and (not entry.umbrella or (entry.codes and not entry.unless))
            ):
                self._pinyin2.setdefault(syllables, []).append(key)
        self._fuzzy_keys = [k for k in self._entries if len(k) >= 3 and k not in made]
        # The fuzzy candidates, in `_fuzzy_keys` order: the Chinese ones by the length of the piece
        # (each list made at its first use), the others in one list.
        self._fuzzy_cjk_near: dict[int, list[str]] = {}
        self._fuzzy_other = [k for k in self._fuzzy_keys if not _CJK.match(k[0])]
        self._objects_by_first: dict[str, list[str]] = {}
        for obj in sorted(self._verbs_by_object, key=len, reverse=True):
            self._objects_by_first.setdefault(obj[0], []).append(obj)
        # Objects of two or three characters by sound, for an object typed with a homophone ("衣福洗干净").
        self._objects_by_sound: dict[tuple[str, ...], list[str]] = {}
        for obj in self._verbs_by_object:
            syllables = pinyin_key(obj) if 2 <= len(obj) <= 3 else None
            if syllables:
                self._objects_by_sound.setdefault(syllables, []).append(obj)

    # -- scanning ---------------------------------------------------------------------------

    def _scan(self, clause: str) -> tuple[list[tuple[int, int, str]], list[tuple[int, int]]]:
        """Every longest alias occurrence, left to right; and the spans left uncovered."""
        hits: list[tuple[int, int, str]] = []
        gaps: list[tuple[int, int]] = []
        i, gap_start = 0, 0
        n = len(clause)
        while i < n:
            found = None
            for key in self._by_first.get(clause[i], ()):
                end = i + len(key)
                if end > n or clause[i:end] != key:
                    continue
                if _ASCII_WORD.match(key[0]) and i > 0 and _ASCII_WORD.match(clause[i - 1]):
                    continue
                if _ASCII_WORD.match(key[-1]) and re.match(r"-[a-z]", clause[end : end + 2]):
                    continue  # part of a compound: "soft-spoken" is not "soft"
                if _ASCII_WORD.match(key[-1]) and end < n and _ASCII_WORD.match(clause[end]):
                    # English plurals and -ing forms still count: "cats", "cooking".
                    tail = re.match(r"(s|es|ing|ed)\b", clause[end:])
                    if not tail:
                        continue
                    end += tail.end()
                found = (i, end, key)
                break
            if found:
                if gap_start < i:
                    gaps.append((gap_start, i))
                hits.append(found)
                i = gap_start = found[1]
            else:
                i += 1
        if gap_start < n:
            gaps.append((gap_start, n))
        return hits, gaps

    def _apart(self, clause: str) -> list[tuple[int, int, str]]:
        """Verb + object aliases with the two apart: "把碗洗了", "衣服洗好", "窗户都要擦", "整理一下衣帽间"."""
        found: list[tuple[int, int, str]] = []
        for i in range(len(clause)):
            exact = [obj for obj in self._objects_by_first.get(clause[i], ()) if clause.startswith(obj, i)]
            for obj in sorted([*exact, *self._heard_objects(clause, i)], key=len, reverse=True):
                end = i + len(obj)
                verbs = self._verbs_by_object[obj]
                # The object first: after 把/将 ("把碗洗了"), or a longer object with a word before the verb or
                # a word after it ("衣服都要洗", "衣服洗好", "窗户擦一擦").
                put_first = re.search(r"[把将](?:啲|个|那些|这些)?$" if len(obj) == 1 else r"[把将].{0,6}$", clause[:i])
                at = _BEFORE_VERB.match(clause, end).end()  # type: ignore[union-attr]
                for verb in verbs:
                    after = at + len(verb)
                    if not clause.startswith(verb, at):
                        continue
                    # Followed by a particle, the verb again, or the end of the clause ("衣服洗").
                    followed = (
                        bool(_AFTER_VERB.match(clause, after))
                        or clause.startswith(verb, after)
                        or not clause[after:].strip()
                    )
                    if put_first or (len(obj) > 1 and (at > end or followed)):
                        found.append((put_first.start() if put_first else i, after, verb + obj))
                        break
                # The verb first, a particle or a count between: "整理一下衣帽间", "执下个衣柜", "喂一次奶".
                for gap in range(4, 0, -1):
                    between = clause[max(0, i - gap) : i]
                    if len(between) < gap or not _BETWEEN_VERB_AND_OBJECT.fullmatch(between):
                        continue
                    before = next((v for v in verbs if clause[: i - gap].endswith(v)), None)
                    if before:
                        found.append((i - gap - len(before), end, before + obj))
                        break
                break
        return found

    def _heard_objects(self, clause: str, at: int) -> list[str]:
        """Objects that the characters at this position sound like, longest first."""
        heard = []
        for length in (3, 2):
            syllables = pinyin_key(clause[at : at + length]) if at + length <= len(clause) else None
            for obj in self._objects_by_sound.get(syllables, ()) if syllables else ():
                if self._typed_for(clause[at : at + length], obj):
                    heard.append(obj)
        return heard

    @staticmethod
    def _typed_for(written: str, obj: str) -> bool:
        """Whether a written word is the object typed with one homophone swapped in (no function character)."""
        swapped = [w for w, o in zip(written, obj) if w != o]
        return len(written) == len(obj) and len(swapped) == 1 and swapped[0] not in _FUNCTION_CHARS

    def _scan_pinyin(self, piece: str) -> tuple[list[tuple[int, int, str]], list[tuple[int, int]]]:
        """Like _scan, by sound, over a stretch of Chinese characters."""
        syllables = pinyin_key(piece)
        if not syllables:
            return [], [(0, len(piece))]
        hits, gaps = [], []
        i, gap_start, n = 0, 0, len(syllables)
        while i < n:
            found = None
            for length in self._pinyin_lengths:
                key = self._pinyin.get(syllables[i : i + length]) if i + length <= n else None
                if key and piece[i] != key[0] and piece[i] in _FUNCTION_CHARS:
                    key = None  # "为老人" is no 喂老人: a function word before a word is no typo of it
                if key:
                    found = (i, i + length, key)
                    break
            if found is None and i + 2 <= n:
                found = self._homophone2(piece[i : i + 2], syllables[i : i + 2], i)
                if found and self._in_a_word(piece, i, found[2]):
                    found = None
            if found:
                if gap_start < i:
                    gaps.append((gap_start, i))
                hits.append(found)
                i = gap_start = found[1]
            else:
                i += 1
        if gap_start < n:
            gaps.append((gap_start, n))
        return hits, gaps

    def _in_a_word(self, piece: str, at: int, key: str) -> bool:
        """Whether the swapped character of a two-character homophone makes a word with its other neighbour:
        in "照顾下起居" the 起 of 下起 (下棋) belongs to 起居."""
        if piece[at] != key[0]:
            return at > 0 and piece[at - 1 : at + 1] in self._bigrams
        return at + 2 < len(piece) and piece[at + 1 : at + 3] in self._bigrams

    def _homophone2(self, written: str, syllables: tuple[str, ...], at: int) -> tuple[int, int, str] | None:
        """A two-character word with one character swapped for a homophone: 作饭, 宠勿, 拖第."""
        for key in self._pinyin2.get(syllables, ()):
            kept = [a == b for a, b in zip(written, key)]
            if sum(kept) == 1:
                swapped = written[kept.index(False)]
                # Two characters are weak evidence: the swapped one must sound the same unfolded
                # (推拉 is no 推拿, 前到 no 呛到; 鼻食 is 鼻饲), though a longer word may differ by an accent's fold.
                if swapped not in _FUNCTION_CHARS and _same_sound(swapped, key[kept.index(False)]):
                    return (at, at + 2, key)
        return None

    def _fuzzy(self, piece: str) -> tuple[str, float] | None:
        cjk = len(_CJK.findall(piece))
        if cjk:
            if cjk < 3:
                return None
            candidates = self._fuzzy_cjk_near.get(len(piece))
            if candidates is None:
                candidates = self._fuzzy_cjk_near[len(piece)] = [
                    k for k in self._fuzzy_keys if abs(len(k) - len(piece)) <= 1 and _CJK.match(k[0])
                ]
            best = process.extractOne(
                piece, candidates, scorer=fuzz.ratio, processor=None, score_cutoff=FUZZY_CUTOFF_CJK
            )
        else:
            if len(piece) < 4:
                return None
            best = process.extractOne(
                piece, self._fuzzy_other, scorer=fuzz.ratio, processor=None, score_cutoff=FUZZY_CUTOFF
            )
        return (best[0], float(best[1])) if best else None

    @staticmethod
    def _strip(piece: str) -> str:
        # A child's age was read (it chooses infant or child care); it is not a duty of its own. Nor is a count.
        piece = _COUNT.sub(" ", _AGE_MONTHS.sub(" ", _AGE_YEARS.sub(" ", piece)))
        return re.sub(
            r"\s+",
            " ",
            _FILLER.sub(" ", piece)
            if _CJK.search(piece)
            else " ".join(w for w in piece.split() if not _FILLER.fullmatch(w)),
        ).strip(" -'\"")

    def _clause_hits(self, clause: str, original: str) -> tuple[list[_Hit], list[str], bool, set[str]]:
        """The clause's hits, what was left over, whether a duty was turned down, and the codes turned down."""
        hits: list[_Hit] = []
        leftovers: list[str] = []
        negated = False
        refused_codes: set[str] = set()

        def show(start: int, end: int) -> str:
            return original[start:end].strip() if len(original) == len(clause) else clause[start:end].strip()

        def refused(start: int, end: int | None = None, spans: list[tuple[int, int, str]] | None = None) -> bool:
            if _NEGATION.search(clause[max(0, start - 14) : start]):
                return True
            if end is None:
                return False
            # Turned down after: what follows, less the other duties named, is a negation alone.
            rest, at = [], end
            for other_start, other_end, _ in sorted(spans or []):
                if other_start >= at:
                    rest.append(clause[at:other_start])
                    at = other_end
            rest.append(clause[at:])
            return bool(_NEGATION_AFTER.fullmatch("".join(rest)))

        exact, _ = self._scan(clause)
        # A word for a person that names a thing of theirs ("儿童房", "孩子的衣服") is no one cared for.
        exact = [
            (s, e, k) for s, e, k in exact if not (self._entries[k].unless and _THING_OF_A_PERSON.match(clause, e))
        ]
        # A longer duty heard by sound beats the shorter exact words inside it: "做月子参" is 做月子餐.
        for run in re.finditer(r"[\u3400-\u9fff]+", clause):
            found, _ = self._scan_pinyin(run.group())
            for s, e, key in found:
                start, end = run.start() + s, run.start() + e
                inside = [h for h in exact if start <= h[0] and h[1] <= end]
                if (
                    e - s >= 3
                    and clause[start:end] != key
                    and inside
                    # a word listed as naming no duty holds its ground: "两夫妻身体" is no 扶起身
                    and all(self._entries[h[2]].codes for h in inside)
                    and not any(h[0] < end and start < h[1] and h not in inside for h in exact)
                    and max(h[1] - h[0] for h in inside) < end - start
                ):
                    exact = [h for h in exact if h not in inside]  # the sound is heard again below
        # Umbrella words are soft: a duty heard by sound over them ("照故老人") replaces them.
        hard = [(s, e, k) for s, e, k in exact if not self._entries[k].umbrella]
        hard += [(s, e, k) for s, e, k in self._apart(clause) if not any(hs <= s and e <= he for hs, he, _ in hard)]
        hard.sort()
        soft = [(s, e, k) for s, e, k in exact if self._entries[k].umbrella]
        sounds: list[tuple[int, int, str]] = []
        for gap_start, gap_end in _complement(hard, len(clause)):
            for run in re.finditer(r"[\u3400-\u9fff]+", clause[gap_start:gap_end]):
                offset = gap_start + run.start()
                found, _ = self._scan_pinyin(run.group())
                sounds += [
                    (offset + s, offset + e, k)
                    for s, e, k in found
                    # a word written as it is was read (or left out: "小朋友的玩具" is no one cared for)
                    if run.group()[s:e] != k
                    and any(
                        not soft_start <= offset + i < soft_end
                        for i in range(s, e)
                        for soft_start, soft_end, _ in soft or [(0, 0, "")]
                    )
                ]
        soft = [(s, e, k) for s, e, k in soft if not any(s < se and ss < e for ss, se, _ in sounds)]
        served_end: int | None = None
        eater: tuple[_Hit, int] | None = None  # the last person named, and where the word ends
        for spans, source in ((hard, "alias"), (soft, "alias"), (sounds, "pinyin")):
            for start, end, key in spans:
                if refused(start, end, hard + soft + sounds):
                    negated = True
                    refused_codes.update(self._entries[key].codes)
                    continue
                whole = clause.strip() == clause[start:end]
                score = 90.0 if source == "pinyin" else 100.0 if whole else 95.0
                entry = self._entries[key]
                if entry.codes == (_GENERIC_COOKING,) and (
                    self._cuisine_after(clause, end, hard) or self._cook_of_a_cuisine(clause, end, hard)
                ):
                    continue  # "cook Western meals", "会煮粤菜": the cuisine says what is cooked
                cared = bool(entry.unless) and bool(
                    _CARE_BEFORE.search(clause[:start]) or self._care_after(clause, end, hard + soft)
                )
                served = bool(entry.unless) and (
                    self._served(clause, start, end, hard)
                    or (served_end is not None and not clause[served_end:start].strip(" 和同及与跟、and&"))
                )
                served_end = end if served else None  # "开车接送爷爷奶奶": both are driven
                eats = bool(entry.unless) and bool(_EATS_AFTER.match(clause[end:]))
                if entry.unless and _NOT_MINDED.match(clause[end:]):
                    negated = True  # "小孩上学了不用带": the person is no one to care for
                    continue
                hit = _Hit(show(start, end), entry, score, source, cared_for=cared, served=served, eats=eats)
                if eats and eater is not None and not clause[eater[1] : start].strip(" 和同及与跟、and&"):
                    eater[0].eats = True  # "老人细路都要饮": both drink what is made
                eater = (hit, end) if entry.unless else None
                hits.append(hit)
        covered = sorted(hard + soft + sounds)
        bare = _BARE_VERB_AT_END.search(clause)
        if bare and not any(s <= bare.start() < e for s, e, _ in covered) and not refused(bare.start()):
            # Company kept against a fall ("怕跌倒，要人陪着") is the fall's prevention.
            # Company kept for a mother ("孕晚期……想找个阿姨陪着") is her care.
            yields = (
                _COMPANY_YIELDS | {"fall_prevention", *_MOTHER_DUTIES}
                if bare.group(1) == _KEEPING_COMPANY
                else frozenset()
            )
            code = _BARE_VERBS[bare.group(1)]
            entry = Entry((code,), yields=yields, with_a_baby=code == "infant_sleep_care")  # 哄 is a baby's
            hits.append(_Hit(show(*bare.span(1)), entry, 90.0, "alias"))
            covered = sorted([*covered, (bare.start(), bare.end(), bare.group(1))])
        for gap_start, gap_end in _complement(covered, len(clause)):
            # What is left is tried fuzzily once filler words are cut; else reported.
            for run in re.finditer(r"[\u3400-\u9fff]+|[^\u3400-\u9fff]+", clause[gap_start:gap_end]):
                start, end = gap_start + run.start(), gap_start + run.end()
                core = self._strip(clause[start:end])
                if not core:
                    continue
                best = self._fuzzy(core)
                if best is None:
                    leftovers.append(show(start, end))
                elif refused(start):
                    negated = True
                    refused_codes.update(self._entries[best[0]].codes)
                else:
                    hits.append(_Hit(show(start, end), self._entries[best[0]], best[1], "fuzzy"))
        hits.sort(key=lambda hit: clause.find(normalize(hit.text)))
        return hits, leftovers, negated, refused_codes

    def _situations(self, clause: str, written: str, found: list[_Hit], beside: str) -> list[_Hit]:
        """Duties the clause describes by their situation (situations.py), not named by a word in it;
        beside is the text of the clauses before and after it."""
        hits = []
        for situation in SITUATIONS:
            both = situation.find(clause, beside)
            if (
                both is None
                or situation.code not in self._names
                or any(situation.code in hit.entry.codes for hit in found)
                # either word turned down ("药不用盯着")
                or any(m and _NEGATION.search(clause[max(0, m.start() - 14) : m.start()]) for m in both)
            ):
                continue
            match = both[0]
            text = written[match.start() : match.end()] if len(written) == len(clause) else match.group()
            hits.append(_Hit(text.strip(), Entry((situation.code,)), 90.0, "alias"))
        return hits

    def _cuisine_after(self, clause: str, end: int, spans: list[tuple[int, int, str]]) -> bool:
        """Whether a cuisine or a diet is named right after a cooking word (only a space between)."""
        return any(
            not clause[end:start].strip() and _CUISINES & set(self._entries[key].codes)
            for start, _, key in spans
            if start >= end
        )

    def _cook_of_a_cuisine(self, clause: str, end: int, spans: list[tuple[int, int, str]]) -> bool:
        """Whether a cooking word names the cook ("做饭的要会做川菜", "a cook who can do Sichuan food"), with a
        cuisine after it in the clause."""
        return bool(clause.startswith("的", end) or _COOK_WHO.match(clause, end)) and any(
            start >= end and _CUISINES & set(self._entries[key].codes) for start, _, key in spans
        )

    def _served(self, clause: str, start: int, end: int, spans: list[tuple[int, int, str]]) -> bool:
        """Whether a person is the one who eats what is cooked ("孩子爱吃面包", "给孩子做饭", "meals for the
        kids"), or is driven ("开车接送老人")."""
        if _DRIVEN_BEFORE.search(clause[:start]):
            return True
        cooking = [s for s, _, key in spans if _COOKING & set(self._entries[key].codes)]
        if not _SERVED_BEFORE.search(clause[:start]):
            return False
        return any(s < start for s in cooking) or any(
            s >= end and not clause[end:s].strip(" 做煮整的") for s in cooking
        )

    @staticmethod
    def _care_after(clause: str, end: int, spans: list[tuple[int, int, str]]) -> bool:
        """Whether a word for caring follows a word for a person with no other duty between."""
        care = _CARE_AFTER.match(clause[end:])
        return bool(care) and not any(end <= start < end + care.end() for start, _, _ in spans)  # type: ignore[union-attr]

    # -- the whole text ---------------------------------------------------------------------

    def understand(self, text: str) -> Understood:
        normalized = normalize(text)
        ages = child_ages(normalized)  # read before an age between a verb and its person is cut
        original = unicodedata.normalize("NFKC", text or "")
        counted = _AGE_BETWEEN.sub("", _COUNT_BETWEEN.sub("", normalized))
        same_shape = len(original) == len(normalized) and counted == normalized
        normalized = counted
        hits: list[_Hit] = []
        not_understood: list[str] = []
        # A clause naming an appliance, the appliance as written, and what in the clause was not understood.
        appliances: list[tuple[str, str, list[str]]] = []
        turned_down: set[str] = set()  # duties the text turns down ("保姆不用做饭")
        spans = list(_clauses(normalized))
        for number, (start, end) in enumerate(spans):
            clause = normalized[start:end]
            if not clause.strip():
                continue
            written = original[start:end] if same_shape else clause
            clause_hits, leftovers, negated, refused_codes = self._clause_hits(clause, written)
            turned_down |= refused_codes
            beside = " ".join(normalized[s:e] for s, e in spans[max(0, number - 1) : number + 2] if s != start)
            clause_hits += self._situations(clause, written, clause_hits, beside)
            for hit in clause_hits:
                hit.clause = number
            hits.extend(clause_hits)
            # A duty the text turns down ("不用做饭") was understood, and is left out.
            leftovers = [
                leftover
                for leftover in leftovers
                if not (negated and _NEGATION_ONLY.fullmatch(normalize(leftover).strip()))
            ]
            if not clause_hits and not negated and leftovers:
                reported = [(original[start:end] if same_shape else clause).strip()]
            else:
                reported = [leftover for leftover in leftovers if _meaningful(leftover)]
            appliance = _APPLIANCE.search(clause)
            if appliance and not negated:
                written = original[start:end] if same_shape else clause
                appliances.append((clause, written[appliance.start() : appliance.end()], reported))
            else:
                not_understood.extend(reported)

        # An appliance named where cleaning is asked is cleaned: in its own clause, or in a deep clean.
        deep = any("deep_cleaning" in hit.entry.codes for hit in hits)
        for clause, written, reported in appliances:
            if deep or _CLEANING_VERB.search(clause):
                hits.append(_Hit(written, Entry(("appliance_cleaning",)), 90.0, "alias"))
            else:
                not_understood.extend(reported)
        # A cleaning verb on its own cleans the catheter, wound, tube or appliance the text names.
        if any(code in _CLEANED_ITEMS for hit in hits for code in hit.entry.codes):
            hits = [hit for hit in hits if normalize(hit.text).strip() not in _BARE_CLEANING]
        # A cleaning verb on its own in a clause that washes a person ("抹身清洁", "换尿片后清洗") is the washing.
        washed = {hit.clause for hit in hits if _WASHING_A_PERSON & set(hit.entry.codes)}
        hits = [hit for hit in hits if not (hit.clause in washed and normalize(hit.text).strip() in _BARE_CLEANING)]

        named_codes = {code for hit in hits for code in hit.entry.codes}
        hits = [hit for hit in hits if not _SPELLED_OUT.get(normalize(hit.text).strip(), frozenset()) & named_codes]
        # Blood pressure read beside another vital sign ("量血压、体温、血氧") is one of the vital signs, not a
        # chronic disease's check.
        if "vital_signs_monitoring" in named_codes:
            hits = [
                hit
                for hit in hits
                if not (hit.entry.codes == ("chronic_disease_monitoring",) and _BLOOD_PRESSURE.search(hit.text.lower()))
            ]
        # Keeping company yields to the duty the company is for ("陪奶奶去医院" is the doctor's visit).
        hits = [
            hit
            for hit in hits
            if not any(
                code in hit.entry.yields or self._categories.get(code) in hit.entry.yields
                for code in named_codes - set(hit.entry.codes)
            )
        ]
        # A texture is a diet only where food is spoken of.
        if not _FOOD.search(normalized):
            hits = [hit for hit in hits if normalize(hit.text).strip() not in _TEXTURES]
        if not _MEDICINE.search(normalized):
            hits = [hit for hit in hits if normalize(hit.text).strip() not in _REMINDERS]

        # Duties the text names: its aliases, umbrella words' core duties, and what words for a person
        # cared for (an elder, a baby, a child) stand for; a helper word (保姆) yields to any of them.
        def named_besides(entry: Entry) -> list[str]:
            # A duty shared with a baby is the baby's when only a baby is named ("宝宝推拿" is the baby's massage).
            mapped = _FOR_A_BABY if baby and not elder else {}
            return [mapped.get(code, code) for h in hits if h.entry is not entry for code in h.entry.codes]

        baby, elder = self._people(hits)
        a_baby_named = any(h.entry.unless and {_INFANT, _CHILD} & set(h.entry.usual) for h in hits)
        # Sleeping and falling ill are a baby's or child's only when one is named (not a mother's, not an elder's).
        young = any(
            (hit.entry.unless and {_INFANT, _CHILD} & set(hit.entry.usual))
            or any(self._categories.get(c) == "maternity" and c not in _MOTHER_DUTIES for c in hit.entry.codes)
            for hit in hits
            if not hit.entry.with_a_baby
        )
        hits = [hit for hit in hits if not hit.entry.with_a_baby or (young and not elder)]
        # A person said to eat or like something, where cooking is asked, is the one cooked for.
        cooked = any(_COOKING & set(hit.entry.codes) for hit in hits)
        for hit in hits:
            hit.served |= hit.eats and cooked
        # Someone to live in and watch an elder ("要住家睇实佢", "想搵个住家照顾佢") is the elder's daily care,
        # beside whatever else is named.
        if _LIVE_IN.search(normalized):
            for hit in hits:
                hit.lives_with |= bool(hit.entry.unless) and "elderly_daily_care" in hit.entry.usual
        cared_for = [
            code
            for h in hits
            if h.entry.unless and not h.served
            for code in h.entry.usual
            if self._kept(h, named_besides(h.entry))
        ]
        # After a birth (坐月子, 月嫂, 剖腹产) the baby is a newborn, cooking is confinement cooking and a
        # discharge from hospital is the mother's.
        confinement = any(_CONFINEMENT & {*hit.entry.codes, *hit.entry.usual} for hit in hits)
        an_elder = any(h.entry.unless and "elderly_daily_care" in h.entry.usual for h in hits)  # a word for one
        pet = any("pet_care" in hit.entry.codes for hit in hits)
        tube = any("nasal_feeding" in hit.entry.codes for hit in hits)
        # With a newborn's care named (月嫂, 新生儿), the baby's care is the newborn's, unless an age says otherwise.
        # A baby counted in days since birth ("BB出世十日") is a newborn too.
        newborn = (
            confinement or any("newborn_care" in hit.entry.codes for hit in hits) or bool(_DAYS_OLD.search(normalized))
        ) and not ages
        # A duty shared with a baby goes to the child's care when only words for an older child are used.
        person_usual = {code for hit in hits if hit.entry.unless for code in hit.entry.usual}
        child_only = _CHILD in person_usual and _INFANT not in person_usual
        resolved: list[tuple[_Hit, list[str]]] = []
        for hit in hits:
            codes = list(hit.entry.codes)
            if hit.entry.without_a_person is not None and not baby and not elder:
                codes = list(hit.entry.without_a_person)
            if confinement and codes == [_GENERIC_COOKING] and "confinement_meals" in self._names:
                codes = ["confinement_meals"]
            # After a birth, soup and a taste asked for ("汤水要能下奶", "月子餐要清淡") are the confinement meals'.
            confined_taste = hit.entry.without_a_person is not None or codes == ["cantonese_soup"]
            if confinement and confined_taste and "confinement_meals" in self._names:
                codes = ["confinement_meals"]
            if confinement and not an_elder and normalize(hit.text).strip() in _MOTHERS_AFTER_A_BIRTH:
                codes = ["maternity_postpartum_care"]
            discharged_mother = confinement and "post_surgery_care" in hit.entry.usual
            if hit.entry.usual and not hit.served and not discharged_mother:
                others = named_besides(hit.entry)
                # A carer (护工) where a hospital is named ("省人民医院 找护工 术后一周") is the hospital stay's.
                at_hospital = "hospital_companion_care" in hit.entry.usual and bool(_HOSPITAL.search(normalized))
                if at_hospital or self._kept(hit, others if hit.entry.unless else others + cared_for):
                    # A helper's title with an elder's diet named: the diet is the cooking.
                    diet = hit.entry.titled is not None and "elderly_diet" in others
                    codes += [
                        c for c in hit.entry.usual if c not in turned_down and not (diet and c == _GENERIC_COOKING)
                    ]
            shared = []
            for named in codes:
                if baby and not elder:
                    named = _FOR_A_BABY.get(named, named)
                    older = normalize(hit.text).strip() in _OLDER_CHILD  # 大宝 beside a birth is no newborn
                    if newborn and named in (_INFANT, _CHILD) and named not in hit.entry.codes and not older:
                        named = "newborn_care"  # twins just born, the child of a birth, are newborns
                    if child_only and named == _INFANT and named not in hit.entry.codes:
                        named = _CHILD
                elif pet and not elder:
                    named = _FOR_A_PET.get(named, named)
                elif elder and not a_baby_named and named == "infant_feeding":
                    named = "elderly_feeding"  # "阿婆……喂糊仔": a baby's food words said of an elder
                elif elder and not a_baby_named and named == "infant_sleep_care" and not hit.entry.umbrella:
                    continue  # "晚上陪她睡" said of an elder is no baby's sleep

                if tube and named in ("elderly_feeding", "elderly_diet"):
                    named = "nasal_feeding"  # fed, liquid food too, through the tube the text names
                if newborn and named == _INFANT:
                    named = "newborn_care"
                shared.append(named)
            resolved.append((hit, shared))
        # Household cooking in a clause that names an elder's diet is the cooking of that diet.
        diet_clauses = {hit.clause for hit, codes in resolved if "elderly_diet" in codes}
        matched: list[dict] = []
        seen: set[str] = set()
        # A helper's title comes last, so that a duty it shares with a word naming it ("住家阿姨……煮餸") is
        # shown as that word.
        resolved.sort(key=lambda item: item[0].entry.titled is not None)
        for hit, codes in resolved:
            if hit.clause in diet_clauses and hit.entry.codes == (_GENERIC_COOKING,):
                continue
            for named in codes:
                for code in _by_age(named, ages):
                    if code in seen or code not in self._names:
                        continue
                    seen.add(code)
                    source = "umbrella" if hit.entry.umbrella else hit.source
                    matched.append(
                        {
                            "text": hit.text,
                            "code": code,
                            "name_zh": self._names[code],
                            "score": round(hit.score, 1),
                            "source": source,
                        }
                    )
        return Understood(matched=matched, not_understood=not_understood)

    def _people(self, hits: list[_Hit]) -> tuple[bool, bool]:
        """Whether the text names a baby or child (a word for one, or a maternity duty); and an elder."""
        baby = elder = False
        for hit in hits:
            if hit.entry.umbrella and hit.entry.unless:
                baby |= bool({_INFANT, _CHILD} & set(hit.entry.usual))
                elder |= "elderly_daily_care" in hit.entry.usual
            for code in hit.entry.codes if not hit.entry.with_a_baby else ():
                if code in _FOR_A_BABY or code == "pregnancy_care":  # a baby not yet born is cared for in the mother
                    continue
                baby |= self._categories.get(code) == "maternity"
                elder |= self._categories.get(code) == "elderly"
        return baby, elder

    def _kept(self, hit: _Hit, named: list[str]) -> bool:
        """Whether an umbrella word's usual duties stand beside the duties named."""
        if hit.lives_with or (hit.cared_for and not _CONDITIONS.intersection(named)):
            return True
        return not self._suppressed(hit.entry, named)

    def _suppressed(self, entry: Entry, named: list[str]) -> bool:
        """Whether the text names a duty that replaces the umbrella word's usual ones."""
        if entry.titled is not None:  # a helper's title: dropped only when every duty named is an elder's care
            return bool(named) and all(
                code in entry.titled or self._categories.get(code) in entry.titled for code in named
            )
        if not entry.unless:
            return bool(named)
        return any(code in entry.unless or self._categories.get(code) in entry.unless for code in named)


def _complement(spans: list[tuple[int, int, str]], length: int) -> list[tuple[int, int]]:
    """The stretches of [0, length) that no span covers."""
    gaps, position = [], 0
    for start, end, _ in sorted(spans):
        if start > position:
            gaps.append((position, start))
        position = max(position, end)
    if position < length:
        gaps.append((position, length))
    return gaps


def _clauses(text: str):
    start = 0
    for match in _SPLIT.finditer(text):
        yield start, match.start()
        start = match.end()
    yield start, len(text)


def _meaningful(leftover: str) -> bool:
    core = SkillVocabulary._strip(normalize(leftover))
    return len(core) > 1 or bool(core and not _CJK.match(core))


def child_ages(text: str) -> list[float]:
    """Every age the text gives a child, in years; a school word stands for six."""
    ages: list[float] = []
    for m in _AGE_MONTHS.finditer(text):
        if _PREGNANT_BEFORE.search(text[max(0, m.start() - 6) : m.start()]):
            continue  # months of a pregnancy ("大肚五个月") are no child's age
        if m.group(0) == "满月":
            ages.append(1 / 12)
            continue
        number = chinese_number(m.group(1) or m.group(2) or "")
        if number is not None:
            ages.append(number / 12)
    for m in _AGE_YEARS.finditer(text):
        number = chinese_number(m.group(1) or m.group(3) or "")
        if number is not None:
            ages.append(number + (0.5 if m.group(2) else 0))
    if not ages and _SCHOOL.search(text):
        ages.append(6.0)
    return ages


def child_age_years(text: str) -> float | None:
    """The youngest age the text gives a child, in years; None when it gives none."""
    ages = child_ages(text)
    return min(ages) if ages else None


def _by_age(code: str, ages: list[float]) -> list[str]:
    """Infant or child care as the ages say; both when the text names a child on each side of three."""
    if code not in (_INFANT, _CHILD) or not ages:
        return [code]
    by_age = [_INFANT] * (min(ages) < 3) + [_CHILD] * (max(ages) >= 3)
    return by_age
