"""Duties a household describes by their situation rather than names: two things said in one clause.

Each row is a duty and two word lists; a clause that says a word of each (in either order) asks for
the duty. "佢啲药成日唔记得食" names no reminder, but medicine and forgetting in one clause are one;
"饭菜要切碎煮烂" names no diet, but food and a texture are one. A row with no second list is one
pattern that says the situation by itself. The lists are matched on normalized text (simplified,
lower case).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Words for a person, used where a verb takes one as its object ("车佢去医院").
_PERSON = (
    r"(?:佢哋|佢|他们|她们|他|她|阿[爷嫲妈爸婆公]|老人家|老人|老豆|老妈|两老|爷爷|奶奶|婆婆|公公|个仔|个女|细路|小朋友)"
)


@dataclass(frozen=True)
class Situation:
    code: str
    first: re.Pattern[str]
    second: re.Pattern[str] | None = None
    # Whether the second word may stand in the clause before or after ("药一天三次，要人盯着").
    across: bool = False

    def find(self, clause: str, beside: str = "") -> tuple[re.Match[str], re.Match[str] | None] | None:
        """The first list's word in the clause, and the second list's in the clause (None when it is in a
        clause beside it, for a row that reaches across, or when the row has no second list)."""
        found = self.first.search(clause)
        if found is None or self.second is None:
            return (found, None) if found else None
        second = self.second.search(clause)
        if second or (self.across and self.second.search(beside)):
            return found, second
        return None


SITUATIONS: tuple[Situation, ...] = (
    # Medicine with forgetting, watching or a set time: a medication reminder ("药也要盯着吃",
    # "总忘记吃药", "药一天五次时间不能错").
    Situation(
        "medication_reminder",
        re.compile(r"药|\bmeds\b|\bpills\b|\bmedicines?\b|\bmedications?\b"),
        re.compile(
            r"忘|漏|唔记得|不记得|记不住|冇记性|盯|提住|睇住|看着|看著|按时|准时|定时|按点|准点|时间不能|时间唔可以|"
            r"好多|很多|多种|几种|早午晚|早中晚|饭前|饭后|[一两二三四]日[一两二三四]次|[一两二三四]天[一两二三四]次|"
            r"\bremind|\bforget|\blots of\b|\bmany\b|\bseveral\b"
        ),
        across=True,
    ),
    # Food with a texture made for chewing or swallowing: an adapted diet ("啲饭菜要打烂", "饭菜要切碎煮烂";
    # a baby's food so made is the baby's feeding).
    Situation(
        "elderly_diet",
        re.compile(
            r"打烂|打碎|切碎|剁碎|剁烂|煮烂|煮到烂|煮绵|切细|磨碎|搅碎|搅烂|绞碎|绞烂|捣烂|压烂|烂身|淋身|淋啲|煮得淋|煮到淋|"
            r"腍|稔|软糯|煮得软|煮到软|\bminced\b|\bmashed\b|\bblended\b|\bchopped fine"
        ),
        re.compile(r"饭|菜|餸|食|粥|肉|\bfood\b|\bmeals?\b"),
    ),
    # A reading taken of a chronic illness: monitoring it ("血糖每日要督下", "每天记血压", "blood pressure 不稳，
    # 每天早晚帮他测"). The illness named alone ("佢有高血压") is no duty.
    Situation(
        "chronic_disease_monitoring",
        re.compile(r"血压|血糖|糖尿病|高血压|三高|慢性病|慢病|\bdiabet|\bblood (?:pressure|sugar|glucose)"),
        re.compile(r"量|测|监测|记|督|度|check|monitor|track|record|measur|\btest"),
        across=True,
    ),
    # Exercise with a limb or a doctor's say: rehabilitation ("做吓医生教嘅练习", "手部的锻炼").
    Situation(
        "rehabilitation_exercise",
        re.compile(r"锻炼|练习|训练|\bexercises?\b"),
        re.compile(r"手|脚|腿|肢|关节|膝|腰|肌肉|医生|医嘱|中风|偏瘫|\bdoctor|\bphysio|\barms?\b|\blegs?\b"),
    ),
    # A slippery floor: a fall to prevent ("屋企地板好滑", "浴室地面很滑", "the bathroom floor is slippery").
    Situation(
        "fall_prevention",
        re.compile(r"地板|地面|地下|地砖|浴室|厕所|冲凉房|\bfloors?\b|\bbathroom\b"),
        re.compile(r"滑|\bslippery\b"),
    ),
    # A bag on the belly: a stoma ("肚子上开了个口挂着袋子").
    Situation(
        "catheter_stoma_care",
        re.compile(r"袋|\bbag\b|\bpouch\b"),
        re.compile(r"肚|腹|\bbelly\b|\btummy\b|\babdomen\b"),
    ),
    # Cantonese 车 as a verb, a person driven somewhere ("车佢去医院", "车阿爷阿嫲去饮茶").
    Situation("family_driver", re.compile(r"车" + _PERSON + r"+(?:去|返|落|出)")),
    # An operation with a discharge or "done", in its clause or the one beside: care after surgery
    # ("结肠癌手术刚出院", "做完子宫手术", "阿爸割胆，出院之后……").
    # Cantonese and plain words for an operation: 割胆, 割盲肠, a joint replaced (膝盖做了置换).
    Situation(
        "post_surgery_care",
        re.compile(r"手术|开刀|割胆|割盲肠|割阑尾|置换|搭桥"),
        re.compile(r"出院|做完|做了|做咗|刚做|术后|之后|以后"),
        across=True,
    ),
    # Plants with tending: plant care ("啲兰花要识打理", "淋下露台啲花").
    Situation(
        "plant_care",
        re.compile(r"花草|花卉|鲜花|盆花|啲花|的花|种花|花盆|花园|兰花|多肉|盆栽|绿植|植物(?!人)|\bplants?\b|\bgarden"),
        re.compile(r"打理|淋|浇|修剪|施肥|照顾|\bwater|\btend|\blook after"),
    ),
    # Pulling or holding a person up, or up and down stairs: help moving ("起身要人拉", "扶住落楼梯").
    Situation(
        "mobility_transfer",
        re.compile(r"扶|搀|人拉|拉起|拉" + _PERSON + r"|背" + _PERSON + r"|协助|\blift"),
        re.compile(r"起身|起床|下床|上床|上楼|下楼|落楼|楼梯|\bstairs\b"),
    ),
    # Fetching or taking someone with a school named: the school run ("送老板孩子上学", "接送1年级", "接园").
    Situation(
        "school_pickup",
        re.compile(r"接送|接|送"),
        re.compile(r"上学|放学|返学|幼儿园|学校|[一二三四五六1-6]年级|小学|\bschool\b|\bkindergarten\b|\bnursery\b"),
        across=True,
    ),
    Situation("school_pickup", re.compile(r"接园|送园|接娃放学|接送娃")),
    # Fetching and taking with a child named in the clause or beside it: the school run ("两个小孩，要个能
    # 接送又能做饭的", "个仔要人接接送送").
    Situation(
        "school_pickup",
        re.compile(r"接送|接接送送|接同送"),
        re.compile(
            r"小孩|孩子|小朋友|细路|个仔|个女|儿子|女儿|孙子|孙女|娃|大的|小的|老大|老二|大宝|二宝|小宝|\bkids?\b|\bchildren\b"
        ),
        across=True,
    ),
    # Watching a child of school age, said in English ("watch my 6-year-old after school"): minding a child.
    Situation(
        "child_care",
        re.compile(r"\bwatch\b|\bmind\b|\bsupervise\b|\bkeep an eye on\b"),
        re.compile(
            r"\b(?:[3-9]|1[0-2])[- ]years?[- ]olds?\b|\bkids?\b|\bchildren\b|\bson\b|\bdaughter\b|\bboys?\b|\bgirls?\b"
        ),
    ),
    # A seizure or a collapse with what to do when it comes: first aid ("发作时怎样处理", "晕倒了识唔识急救").
    Situation(
        "first_aid",
        re.compile(r"发作|抽搐|抽筋|晕倒|昏倒|晕厥|\bseizures?\b|\bfaints?\b"),
        re.compile(r"处理|应对|应付|怎么办|点算|点处理|急救|\bhandle|\bwhat to do\b|\brespond"),
    ),
    # Breathing watched: the vital signs ("睇住佢呼吸", "夜里要看着他呼吸").
    Situation(
        "vital_signs_monitoring",
        re.compile(r"呼吸(?!机|道|科|困难)|\bbreathing\b"),
        re.compile(r"睇住|睇实|看着|看住|盯着|观察|监测|留意|\bwatch|\bmonitor|\bcheck"),
    ),
)
