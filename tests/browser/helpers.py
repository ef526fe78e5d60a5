"""Helpers shared by the browser tests: a staff session in the browser, axe-core, widths."""

from pathlib import Path

import axe_playwright_python
from django.conf import settings
from django.test import Client

# axe-core as shipped inside the axe-playwright-python package (MPL-2.0): read from local disk.
AXE_JS = Path(axe_playwright_python.__file__).parent / "axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def log_in_with_session(context, live_server, user):
    """Staff have two-step verification: the browser takes a session made by the test client
    (which the MFA middleware accepts, the user having TOTP). Used for members too, to save
    the log-in form's time where the log-in is not what is tested."""
    client = Client()
    client.force_login(user)
    context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )


def axe_violations(page) -> list[str]:
    """Run axe (WCAG 2.1 A and AA) on the loaded page; one readable line per failing node.
    The page's context needs `bypass_csp=True`: the site's CSP forbids the injected script."""
    page.add_script_tag(path=str(AXE_JS))
    results = page.evaluate(
        """(tags) => axe.run(document, {
            runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']
        })""",
        WCAG_TAGS,
    )
    lines = []
    for violation in results["violations"]:
        for node in violation["nodes"]:
            target = " ".join(str(t) for t in node["target"])
            lines.append(f"{violation['id']} [{violation['impact']}] {target}: {violation['help']}")
    return lines


def scroll_width(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth")


WIDE = """(limit) => {
    const name = (e) => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '')
        + (e.classList.length ? '.' + [...e.classList].join('.') : '');
    const out = [];
    for (const e of document.body.querySelectorAll('*')) {
        if (e.getBoundingClientRect().right <= limit + 1) continue;
        if ([...e.children].some((c) => c.getBoundingClientRect().right > limit + 1)) continue;
        let path = name(e), p = e.parentElement;
        for (let i = 0; i < 3 && p && p !== document.body; i++, p = p.parentElement) {
            path = name(p) + ' > ' + path;
        }
        out.push(path + ' (' + Math.round(e.getBoundingClientRect().right) + ' px)');
        if (out.length >= 3) break;
    }
    return out;
}"""


def too_wide(page, limit: int) -> list[str]:
    """The innermost elements that reach past `limit` px: what makes a page scroll sideways."""
    return page.evaluate(WIDE, limit)
