"""The shared pager of the lists (templates/_pager.html)."""

from django.core.paginator import Paginator
from django.template.loader import render_to_string
from django.utils import translation


def _pager(number: int, **context) -> str:
    page = Paginator(list(range(120)), 50).get_page(number)
    with translation.override("nl"):
        return render_to_string("_pager.html", {"page": page, **context})


def test_a_middle_page_links_both_ways_with_the_lists_parameters_and_anchor():
    html = _pager(2, query="status=ready&", anchor="#lijst", counted="120 apparaten")
    assert 'href="?status=ready&amp;pagina=1#lijst">Vorige</a>' in html
    assert 'href="?status=ready&amp;pagina=3#lijst">Volgende</a>' in html
    assert "Pagina 2 van 3 (120 apparaten)" in html
    assert 'class="pager" aria-label="Pagina"' in html


def test_the_first_and_last_pages_link_one_way_in_the_lists_own_words():
    first = _pager(1, previous="Nieuwere zendingen", next="Oudere zendingen")
    assert "Nieuwere zendingen" not in first and 'href="?pagina=2">Oudere zendingen</a>' in first
    last = _pager(3)
    assert 'href="?pagina=2">Vorige</a>' in last and "Volgende" not in last
    assert "Pagina 3 van 3" in last and "(" not in last.split("Pagina 3 van 3")[1].split("<")[0]


def test_a_single_page_has_no_pager():
    page = Paginator(list(range(10)), 50).get_page(1)
    assert render_to_string("_pager.html", {"page": page}).strip() == ""
