"""Address normalisation and matching against the standard address table."""

from __future__ import annotations

import pytest
from shapely.geometry import Point

from mapserver.addressing import AddressMatcher, chinese_to_int, normalise_address
from mapserver.errors import Problem
from mapserver.model import Address

ROADS = ["七一路", "八一大道", "中州大道", "交通路", "人民路", "文昌大道"]
COMPOUNDS = ["人和小区", "建业小区", "阳光花园", "锦绣家园"]


def table() -> list[tuple[str, str, float, float]]:
    entries = []
    for r, road in enumerate(ROADS):
        for c, compound in enumerate(COMPOUNDS):
            for building in range(1, 6):
                for unit in range(1, 3):
                    for room in (101, 201, 501, 502):
                        code = f"A{r}{c}{building}{unit}{room}"
                        text = f"川汇区{road}{18 + c * 10}号{compound}{building}号楼{unit}单元{room}室"
                        entries.append((code, text, 114.6 + r * 0.01, 33.6 + c * 0.01))
    return entries


@pytest.fixture(scope="module")
def matcher() -> AddressMatcher:
    return AddressMatcher(table())


@pytest.mark.parametrize("text, value", [("十", 10), ("十八", 18), ("二十", 20), ("二百零五", 205), ("五零一", 501),
                                         ("一千零一", 1001), ("两", 2)])
def test_chinese_numerals(text, value):
    assert chinese_to_int(text) == value


@pytest.mark.parametrize("variant", [
    "川汇区七一路18号人和小区3号楼2单元501室",
    "河南省周口市川汇区七一路十八号人和小区三号楼二单元五零一室",
    "七一路１８号　人和小区３栋２单元５０１",
    "七一路18号人和小区3幢2单元501房",
    "七一路18号,人和小区 3#楼-2单元-501室",
    "七一路十八号人和小区3座二单元501",
])
def test_written_variants_normalise_alike(variant):
    assert normalise_address(variant).removesuffix("室") == "七一路18号人和小区3号楼2单元501"


def test_a_compound_name_is_not_taken_for_a_district():
    assert normalise_address("人和小区3号楼") == "人和小区3号楼"


@pytest.mark.parametrize("query", [
    "七一路十八号人和小区三栋二单元五零一室",
    "七一路18号 人和小区 3#楼 2单元 501",
    "周口市川汇区七一路18号人和小区3幢2单元501房",
])
def test_variants_find_the_right_door(matcher, query):
    best = matcher.match(query)[0]
    assert best.text == "川汇区七一路18号人和小区3号楼2单元501室"
    assert best.score >= 90


def test_one_digit_off_in_the_room_is_a_different_door(matcher):
    results = matcher.match("七一路18号人和小区3号楼2单元502室")
    assert results[0].text.endswith("3号楼2单元502室")
    assert results[1].score < results[0].score


def test_candidates_are_ranked_and_limited(matcher):
    results = matcher.match("人民路38号阳光花园", limit=5)
    assert len(results) == 5
    assert [r.score for r in results] == sorted((r.score for r in results), reverse=True)
    assert all("人民路38号阳光花园" in r.text for r in results)


@pytest.mark.parametrize("query", ["", "   ", "。", "a"])
def test_empty_query_is_400(matcher, query):
    with pytest.raises(Problem) as caught:
        matcher.match(query)
    assert caught.value.status == 400 and caught.value.param == "address"


def test_from_store(store):
    store.layers.add("addresses", [Address(code=c, text=t, geom=Point(x, y)) for c, t, x, y in table()[:50]])
    matcher = AddressMatcher.from_store(store)
    assert len(matcher) == 50
    assert matcher.match("七一路18号人和小区1号楼1单元101室")[0].code == "A0011101"
