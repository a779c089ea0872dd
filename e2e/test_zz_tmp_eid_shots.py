import re
from e2e.test_eid import _log_in, _to_idp
from playwright.sync_api import expect

def test_shots(new_context):
    page = new_context(viewport=(390, 800)).new_page()
    _log_in(page)
    page.goto("/konto/stufe?stufe=pin_brief&weiter=/konto")
    page.screenshot(path="/tmp/eidproto/stufe.png", full_page=True)
    page.goto("/konto/stufe?stufe=eid_hoch&weiter=/konto")
    page.get_by_role("button", name="Mit dem Online-Ausweis ausweisen").click()
    expect(page).to_have_url(re.compile(r"/test-idp/sso"))
    page.screenshot(path="/tmp/eidproto/idp.png", full_page=True)
    page.get_by_label("Andere Anmeldeart (ELSTER statt Online-Ausweis)").check()
    page.get_by_role("main").get_by_role("button", name="Weiter").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("nicht angenommen")
    page.screenshot(path="/tmp/eidproto/abgelehnt.png", full_page=True)
