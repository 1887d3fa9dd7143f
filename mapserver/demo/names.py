"""Chinese names for the demo city: people, phones, streets, communities, villages, compounds, roads.

Every generator takes a ``numpy.random.Generator`` and draws from fixed, ordered
lists, so the same generator state gives the same names. Names are plausible for
Zhoukou (周口) but, apart from the street offices and main roads of 川汇区, invented.
"""

from __future__ import annotations

import numpy as np

# Common surnames, roughly by frequency in Henan (the first ones far more often).
SURNAMES = (
    "王李张刘陈杨赵黄周吴徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任"
    "沈姚卢姜崔钟谭陆汪范金石廖贾夏付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱武戴孔常牛耿申代"
)
GIVEN = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰红建国志文斌辉鹏宇浩凯帅博亮飞鑫晨欣雪梅琳婷倩颖佳慧"
    "莉萍燕玲丹晶峰林波海冬春东宁新永利德福金振正卫庆彬松晓俊瑞翔泽然思嘉子梓涵雨若一诗铭昊"
)
CN_NUMBERS = ("一", "二", "三", "四", "五", "六", "七", "八", "九", "十")
MOBILE_PREFIXES = ("130", "131", "132", "133", "134", "135", "136", "137", "138", "139",
                   "150", "151", "152", "153", "155", "156", "157", "158", "159",
                   "180", "181", "182", "183", "184", "185", "186", "187", "188", "189")

# The twelve sub-district offices of 川汇区 (street names used for the level-1 grids).
CHUANHUI_STREETS = ("陈州回族街道", "七一路街道", "荷花路街道", "人和街道", "小桥街道", "城南街道",
                    "城北街道", "华耀城街道", "文昌街道", "金海路街道", "搬口街道", "李埠口街道")
PLACE_WORDS = (
    "北关", "南关", "东关", "西关", "七一", "五一", "八一", "建设", "人民", "文昌", "光明", "新华", "育新", "太昊",
    "汉阳", "大庆", "交通", "富民", "和平", "幸福", "团结", "民主", "胜利", "友谊", "劳动", "工农", "莲花", "荷花",
    "沙南", "沙北", "河滨", "颍河", "老街", "水寨", "永兴", "振兴", "兴业", "金海", "华耀", "文明", "安居", "康乐",
    "祥和", "安康", "景苑", "锦绣", "阳光", "紫荆", "桂花", "丁香", "牡丹", "翠竹", "青年", "铁路", "车站", "大同",
    "中州", "汇通", "新民", "庆丰", "盛世", "开元", "迎宾", "东方", "南湖", "清河", "红旗", "向阳", "朝阳", "解放",
    "商都", "花园", "公园", "天明", "春晖", "秀水", "长青", "丰收", "前进", "新建", "双桥", "三里", "五里", "六里",
    "七里", "十里", "周庄", "关帝", "鼓楼", "南坛", "北坛", "烟厂", "纱厂", "化肥", "粮库", "邮电", "银杏", "梧桐",
)
VILLAGE_SUFFIXES = ("庄", "营", "楼", "寨", "湾", "集", "庙", "岗", "口", "屯", "店", "桥", "园", "洼", "台", "湖")
VILLAGE_PREFIXES = ("", "", "", "前", "后", "东", "西", "南", "北", "大", "小", "老", "新")
COMPOUND_PREFIXES = (
    "人和", "阳光", "建业", "锦绣", "金色", "碧桂", "富丽", "银河", "书香", "盛世", "学府", "名门", "东方", "天明",
    "海悦", "翰林", "丽景", "万象", "世纪", "龙湖", "怡和", "康居", "安居", "嘉禾", "润泽", "泰和", "宏达", "华府",
    "御景", "鑫源", "福苑", "瑞丰", "新城", "滨河", "水岸", "凤凰", "金水", "香榭", "紫薇", "清华",
)
COMPOUND_SUFFIXES = ("小区", "花园", "家园", "苑", "公寓", "新村", "名苑", "华庭", "雅居", "城", "府", "佳苑")
WORK_UNITS = ("棉纺厂", "电业局", "粮食局", "味精厂", "邮电局", "供销社", "烟草公司", "建筑公司", "第一中学", "化肥厂")
MAIN_ROADS = ("中州大道", "八一大道", "文昌大道", "周口大道", "建设大道", "交通大道", "太昊路", "七一路", "人民路",
              "工农路", "汉阳路", "大庆路", "莲花路", "川汇路", "光明路", "富民路", "新华路", "五一路", "黄河路",
              "长江路", "滨河路", "中原路", "许昌路", "项城路")
TOWN_WORDS = ("城关", "黄泛区", "老城", "逊母口", "白楼", "朱集", "王店", "李寨", "吴台", "张庄", "高集", "孙营",
              "刘湾", "大新", "新桥", "练集", "丁集", "范营", "马头", "龙曲", "安岭", "毛庄", "冯塘", "曹河")


def person_names(rng: np.random.Generator, n: int) -> list[str]:
    """``n`` Chinese personal names: surname plus one or two given-name characters."""
    # Surname weights fall off with rank, as real surname frequencies do.
    weights = 1.0 / (np.arange(len(SURNAMES)) + 8.0)
    surnames = rng.choice(len(SURNAMES), size=n, p=weights / weights.sum())
    first = rng.integers(0, len(GIVEN), size=n)
    second = rng.integers(0, len(GIVEN), size=n)
    two = rng.random(n) < 0.7
    return [SURNAMES[s] + GIVEN[a] + (GIVEN[b] if t else "")
            for s, a, b, t in zip(surnames, first, second, two, strict=True)]


def mobile_numbers(rng: np.random.Generator, n: int, taken: set[str] | None = None) -> list[str]:
    """``n`` distinct 11-digit mainland mobile numbers (13x/15x/18x), none of them in ``taken``."""
    taken = set() if taken is None else taken
    out: list[str] = []
    while len(out) < n:
        need = n - len(out)
        prefixes = rng.integers(0, len(MOBILE_PREFIXES), size=need)
        suffixes = rng.integers(0, 100_000_000, size=need)
        for p, s in zip(prefixes, suffixes, strict=True):
            number = f"{MOBILE_PREFIXES[p]}{s:08d}"
            if number not in taken:
                taken.add(number)
                out.append(number)
    return out


def cn_number(n: int) -> str:
    """1..99 in Chinese numerals (一, 十二, 二十三)."""
    tens, ones = divmod(n, 10)
    if tens == 0:
        return CN_NUMBERS[ones - 1]
    head = "" if tens == 1 else CN_NUMBERS[tens - 1]
    return head + "十" + (CN_NUMBERS[ones - 1] if ones else "")


def unique_words(rng: np.random.Generator, pool: tuple[str, ...], n: int, extras: tuple[str, ...]) -> list[str]:
    """``n`` distinct words: the pool shuffled, then pool words with each extra appended once it runs out."""
    order = [pool[i] for i in rng.permutation(len(pool))]
    out = list(order)
    for extra in extras:
        if len(out) >= n:
            break
        out += [word + extra for word in order]
    if len(out) < n:
        out += [f"{order[i % len(order)]}{i}" for i in range(len(out), n)]
    return out[:n]


def village_names(rng: np.random.Generator, n: int, taken: set[str]) -> list[str]:
    """``n`` village names such as 王营, 后李庄, 大张寨, distinct from each other and from ``taken``."""
    out: list[str] = []
    weights = 1.0 / (np.arange(len(SURNAMES)) + 8.0)
    weights /= weights.sum()
    while len(out) < n:
        prefix = VILLAGE_PREFIXES[int(rng.integers(len(VILLAGE_PREFIXES)))]
        name = prefix + SURNAMES[int(rng.choice(len(SURNAMES), p=weights))] + VILLAGE_SUFFIXES[
            int(rng.integers(len(VILLAGE_SUFFIXES)))]
        if name not in taken:
            taken.add(name)
            out.append(name)
    return out


def compound_names(rng: np.random.Generator, n: int) -> list[str]:
    """``n`` distinct residential compound names (人和小区, 阳光花园, 棉纺厂家属院 …)."""
    combos = [p + s for p in COMPOUND_PREFIXES for s in COMPOUND_SUFFIXES] + [w + "家属院" for w in WORK_UNITS]
    return unique_words(rng, tuple(combos), n, ("二期", "三期", "东区", "西区"))


def level1_names(rng: np.random.Generator, n: int, *, chuanhui: bool, kinds: list[str]) -> list[str]:
    """Names of the level-1 units: 川汇区's real street offices, else invented 街道/镇/乡 names."""
    if chuanhui and n <= len(CHUANHUI_STREETS):
        return list(CHUANHUI_STREETS[:n])
    words = unique_words(rng, TOWN_WORDS + PLACE_WORDS, n, ("东", "西"))
    suffix = {"street": "街道", "town": "镇", "township": "乡"}
    return [word + suffix[kind] for word, kind in zip(words, kinds, strict=True)]


def road_names(rng: np.random.Generator, n: int, road_class: str) -> list[str]:
    """``n`` road names for a class: real main roads first, then 〇〇路 / 〇〇街 / 〇〇巷."""
    if road_class == "primary":
        return unique_words(rng, MAIN_ROADS, n, ("东段", "西段", "南段", "北段"))
    suffix = {"secondary": ("路",), "tertiary": ("街", "巷")}.get(road_class, ("路",))
    pool = tuple(word + s for word in PLACE_WORDS for s in suffix)
    return unique_words(rng, pool, n, ("东", "西", "南", "北", "一", "二"))
