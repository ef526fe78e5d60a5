"""The donation timeline tag writes what the included template it replaced wrote."""

import datetime as dt
import re

import pytest
from django.template import Context, Template
from django.utils import timezone, translation

# The template the tag replaced (templates/donations/includes/timeline.html).
INCLUDED = """{% load i18n %}<ol class="timeline" aria-label="{% translate 'Verloop' %}">
  {% for step in timeline %}
    <li class="{{ step.state }}"{% if step.state == "current" %} aria-current="step"{% endif %}>
      {{ step.label }}{% if step.at %} <small>({{ step.at|date:"DATE_FORMAT" }})</small>{% endif %}
    </li>
  {% endfor %}
</ol>"""


def _squeezed(html: str) -> str:
    return re.sub(r">\s+", ">", re.sub(r"\s+<", "<", html)).strip()


@pytest.mark.parametrize("language", ["nl", "en"])
def test_the_tag_writes_the_included_templates_list(language):
    late = timezone.make_aware(dt.datetime(2026, 3, 1, 23, 30), dt.UTC)  # 2 March here
    timeline = [
        {"state": "done", "label": "Aangemeld <&>", "at": late},
        {"state": "current", "label": "Opgehaald", "at": late - dt.timedelta(days=40)},
        {"state": "todo", "label": "Ontvangen", "at": None},
    ]
    with translation.override(language):
        old = Template(INCLUDED).render(Context({"timeline": timeline}))
        new = Template("{% load donations %}{% donation_timeline timeline %}").render(
            Context({"timeline": timeline})
        )
    assert _squeezed(new) == _squeezed(old)
    assert "&lt;&amp;&gt;" in new and 'aria-current="step"' in new


@pytest.mark.django_db
def test_the_device_states_are_named_in_the_active_language():
    from donations.models import Device
    from donations.selectors import with_device_counts
    from donations.tests.factories import DeviceFactory

    device = DeviceFactory()
    for language in ("nl", "en", "nl"):
        with translation.override(language):
            (donation,) = with_device_counts([device.donation])
            named = {row["state"]: row["label"] for row in donation.device_counts}
            assert named[device.state] == str(Device.State(device.state).label)
            assert all(type(label) is str for label in named.values())
    with translation.override("en"):
        english = str(Device.State(device.state).label)
    assert english != str(Device.State(device.state).label)  # Dutch outside the override
