"""The web app in a real browser: headless Chromium (Debian's chromium and chromium-driver) driven
by selenium, against a gateway with the demo data, as a person uses it. Run by
`./compose/local.sh test` (see README, "Tests"); every page visited is kept as a screenshot under
the folder given, and a page that logs an error to the browser's console fails the run.

    python run.py GATEWAY_URL SCREENSHOT_FOLDER
"""
import json
import os
import re
import sys
import tempfile
import time
import urllib.request
import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from selenium import webdriver
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException, TimeoutException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as seen
from selenium.webdriver.support.ui import Select, WebDriverWait

DEMO_PASSWORD = "switchboard-demo"
REP = "anna.weber@example.com"
ADMIN = "ada.lovelace@example.com"


class Browser:
    def __init__(self, base, folder):
        self.base = base.rstrip("/")
        self.folder = folder
        self.shots = 0
        self.visited = []
        self.state = {}
        options = webdriver.ChromeOptions()
        options.binary_location = "/usr/bin/chromium"
        for argument in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,900", "--lang=en-GB"]:
            options.add_argument(argument)
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        self.driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
        self.wait = WebDriverWait(self.driver, 10)

    def open(self, path, status=None):
        """`status`: the error status the page is meant to answer (a refusal), which the browser logs."""
        self.driver.get(self.base + path)
        self.settle(path, status)

    def settle(self, name, status=None):
        """After every page: no console errors, and a screenshot kept."""
        self.wait.until(lambda d: d.execute_script("return document.readyState") == "complete")
        meant = f"{self.driver.current_url} - Failed to load resource: the server responded with a status of {status} "
        errors = [entry for entry in self.driver.get_log("browser")
                  if entry["level"] == "SEVERE" and not (status and entry["message"].startswith(meant))]
        self.shots += 1
        slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "page"
        self.driver.save_screenshot(os.path.join(self.folder, f"{self.shots:02d}-{slug}.png"))
        self.visited.append(self.driver.current_url)
        check(not errors, f"console errors on {self.driver.current_url}: {errors}")

    def submit(self, css):
        """Clicks a form's button and waits for the answer to replace the page, even at the same URL:
        a mark set on the old page's window is gone from the new one. (Asking the old page's element
        whether it is stale races the replacement: mid-way, Chromium answers with an inspector error.)"""
        self.driver.execute_script("window.switchboardBeforeSubmit = true")
        self.find(css).click()
        WebDriverWait(self.driver, 10, ignored_exceptions=[WebDriverException]).until(
            lambda d: d.execute_script("return document.readyState === 'complete' && window.switchboardBeforeSubmit !== true"))

    def find(self, css):
        return self.wait.until(seen.presence_of_element_located((By.CSS_SELECTOR, css)))

    def sign_in(self, email, password=DEMO_PASSWORD):
        self.open("/sign-in")
        self.find("#email").send_keys(email)
        self.find("#password").send_keys(password)
        self.find("form button[type=submit]").click()
        self.wait.until(seen.url_contains("/home"))
        self.settle("home")

    def sign_out(self):
        self.find("form.who button").click()
        self.wait.until(seen.url_contains("/sign-in"))
        self.settle("signed-out")

    def text(self):
        return self.driver.find_element(By.TAG_NAME, "body").text


def check(condition, message):
    if not condition:
        raise AssertionError(message)


def sign_in_and_home(b):
    b.open("/home")
    check("/sign-in" in b.driver.current_url, "a stranger is sent to sign in")
    b.sign_in(REP)
    check("Good day, Anna" in b.text(), "the home page greets its user")
    check("Due today and overdue" in b.text() and "My open deals by stage" in b.text(), "home shows the day's work")
    check(len(b.driver.find_elements(By.CSS_SELECTOR, "#deals-heading ~ h3")) > 0, "the demo rep has open deals by stage")


def search_and_open_a_contact(b):
    box = b.find("#global-search")
    box.send_keys("Schmi")
    try:
        b.wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#global-search-results li a"))
    except TimeoutException:
        raise AssertionError("searching as you type offered nothing for 'Schmi'")
    b.settle("search-as-you-type")
    first = b.driver.find_element(By.CSS_SELECTOR, "#global-search-results li a")
    check("Schmidt" in first.text, f"the first suggestion is a Schmidt: {first.text}")
    first.click()
    b.wait.until(seen.url_contains("/contacts/"))
    b.settle("contact")
    b.state["contact"] = "/contacts/" + b.driver.current_url.rsplit("/contacts/", 1)[1].split("#")[0]
    check("Schmidt" in b.find("h1").text, "the contact's page shows the contact")
    check("First-purchase profile" in b.text() and "Timeline" in b.text(), "the contact's page is the customer overview")


def log_a_call(b):
    subject = f"Called about the pallet racks {uuid.uuid4().hex[:6]}"
    b.find("#channel").send_keys("phone")
    b.find("#subject").send_keys(subject)
    b.find("#notes").send_keys("Wants a quote by Friday.")
    b.find("#log-heading ~ form button[type=submit]").click()
    b.wait.until(seen.url_contains("#timeline-heading"))
    b.settle("call-logged")
    timeline = b.find(".timeline").text
    check(subject in timeline, "the call is on the timeline")
    check("Anna Weber" in timeline, "the timeline says who logged it, by name")


def contact_list_filters_and_pages(b):
    b.open("/contacts?country=DE")
    rows = b.driver.find_elements(By.CSS_SELECTOR, "table.list tbody tr")
    check(len(rows) == 50, f"a page holds 50 contacts, not {len(rows)}")
    b.find("a[rel=next]").click()
    b.settle("contacts-next-page")
    check(len(b.driver.find_elements(By.CSS_SELECTOR, "table.list tbody tr")) > 0, "the next page has contacts")
    check("country=DE" in b.driver.current_url, "the next page keeps the filter")


def rep_is_not_admin(b):
    b.open("/admin/users", status=403)
    check("Not for your role" in b.text(), "a sales rep cannot open the admin pages")
    b.sign_out()


def plan_the_week_and_work_a_call_list(b):
    b.sign_in(REP)
    b.open(b.state["contact"])
    subject = f"Site visit {uuid.uuid4().hex[:6]}"
    tomorrow = (datetime.now(ZoneInfo("Europe/Berlin")) + timedelta(days=1)).date().isoformat()  # the demo reps' time zone
    Select(b.find("#kind")).select_by_visible_text("meeting")
    b.find("#a-subject").send_keys(subject)
    b.driver.execute_script("document.getElementById('a-date').value = arguments[0]", tomorrow)
    b.driver.execute_script("document.getElementById('a-time').value = '14:30'")
    b.submit("form.schedule button[type=submit]")
    b.settle("activity-scheduled")
    check(subject in b.find("section[aria-labelledby='cact-heading']").text, "the activity is on the contact's page")
    b.open(f"/activities?week={tomorrow}")
    check(subject in b.find("#week").text and "14:30" in b.find("#week").text, "the activity is in the rep's week at 14:30")
    b.open("/call-lists")
    b.driver.find_element(By.LINK_TEXT, "Reactivation calls").click()
    b.wait.until(seen.url_matches(r"/call-lists/[0-9a-f-]{36}$"))
    b.settle("call-list")
    called, total = map(int, re.search(r"(\d+) of (\d+)", b.find("main p strong").text).groups())
    name = b.find("#next-name").text
    check(b.driver.find_elements(By.CSS_SELECTOR, "#next-contact a[href^='tel:']"), "the next contact's number is a tel: link")
    b.submit("fieldset.outcomes button[value=no_answer]")
    b.settle("call-recorded")
    check(f"{called + 1} of {total}" in b.find("main p strong").text, "the progress counts the call")
    check(name != b.find("#next-name").text, "the next contact is another")
    b.sign_out()


def admin_creates_a_user(b):
    b.sign_in(ADMIN)
    b.open("/admin/users")
    email = f"new.rep.{uuid.uuid4().hex[:6]}@example.com"
    b.find("#name").send_keys("New Rep")
    b.find("#new-email").send_keys(email)
    b.find("form.grid button[type=submit]").click()
    link = b.find("#password-link").text
    b.settle("user-created")
    check(email in b.text(), "the new user is listed")
    b.sign_out()
    b.driver.get(link)
    b.settle("set-password")
    b.find("#password").send_keys("first password 123")
    b.find("#repeat").send_keys("first password 123")
    b.submit("form button[type=submit]")
    b.settle("password-set")
    check("Your password is set" in b.text(), "the new user has set a password")
    b.sign_in(email, "first password 123")
    check("Good day, New" in b.text(), "the new user is in")
    b.sign_out()


def admin_pages_answer(b):
    b.sign_in(ADMIN)
    for page in ["/admin/teams", "/admin/api-keys", "/admin/sales", "/admin/custom-fields", "/contacts/duplicates", "/dashboards"]:
        b.open(page)
        check(b.find("h1").text, f"{page} has a heading")
    b.sign_out()


def funnel_won(b):
    """The funnel's number of won deals, from the chart's table of numbers."""
    b.open("/dashboards")
    rows = b.driver.find_elements(By.CSS_SELECTOR, "#funnel details.numbers tbody tr")
    for row in rows:
        cells = [cell.get_attribute("textContent").strip() for cell in row.find_elements(By.TAG_NAME, "td")]
        if cells and cells[0] == "Won":
            return int(cells[1])
    raise AssertionError("the funnel has no row for won deals")


def create_a_deal_and_win_it_on_the_board(b):
    won_before = funnel_won(b)
    check(b.driver.find_elements(By.CSS_SELECTOR, "#funnel svg rect"), "the funnel is drawn")
    b.open(b.state["contact"])
    b.find(".page-actions a[href^='/deals/new']").click()
    b.settle("new-deal")
    title = f"Conveyor line {uuid.uuid4().hex[:6]}"
    b.find("#title").send_keys(title)
    b.find("#amount").send_keys("12500.00")
    b.find("main form button[type=submit]").click()
    b.wait.until(seen.url_matches(r"/deals/[0-9a-f-]{36}$"))
    b.settle("deal")
    check(title in b.find("h1").text, "the new deal's page")
    b.open("/deals")
    cards = [c for c in b.driver.find_elements(By.CSS_SELECTOR, ".card.deal") if title in c.text]
    check(len(cards) == 1, "the new deal is on the board")
    card = cards[0]
    deal = card.get_attribute("data-deal")
    # Drag and drop, as a person does it: the card to the next stage's column.
    columns = b.driver.find_elements(By.CSS_SELECTOR, ".column[data-stage]")
    target = columns[1]
    target_stage = target.get_attribute("data-stage")
    b.driver.execute_script("""
        const [card, column] = arguments, data = new DataTransfer();
        card.dispatchEvent(new DragEvent('dragstart', {bubbles: true, dataTransfer: data}));
        column.dispatchEvent(new DragEvent('dragover', {bubbles: true, cancelable: true, dataTransfer: data}));
        column.dispatchEvent(new DragEvent('drop', {bubbles: true, cancelable: true, dataTransfer: data}));
        card.dispatchEvent(new DragEvent('dragend', {bubbles: true, dataTransfer: data}));
    """, card, target)
    b.wait.until(lambda d: d.find_element(By.CSS_SELECTOR, f".card.deal[data-deal='{deal}']").find_element(By.XPATH, "ancestor::section").get_attribute("data-stage") == target_stage)
    b.open("/deals")
    moved = b.find(f".card.deal[data-deal='{deal}']")
    check(moved.find_element(By.XPATH, "ancestor::section").get_attribute("data-stage") == target_stage, "the drop moved the deal, as the board shows after a reload")
    # Then won, with the card's own form (what works without JavaScript).
    moved.find_element(By.CSS_SELECTOR, "select[name=to]").send_keys("Won")
    moved.find_element(By.CSS_SELECTOR, "form.move button").click()
    b.wait.until(seen.url_contains("/deals"))
    b.settle("deal-won")
    check(not b.driver.find_elements(By.CSS_SELECTOR, f".card.deal[data-deal='{deal}']"), "a won deal leaves the board")
    b.open(f"/deals/{deal}")
    check("won" in b.find("h1").text, "the deal's page says won")
    check(funnel_won(b) == won_before + 1, "the funnel counts one more won deal")
    b.settle("funnel-after")


def a_stale_edit_shows_a_conflict(b):
    contact = b.state["contact"]
    b.open(contact + "/edit")
    # Someone else saves the contact meanwhile, through the API.
    api(f"/api/v1/contacts/{contact.rsplit('/', 1)[1]}", "PATCH", {"position": "Head of Purchasing"})
    position = b.find("#f-position")
    position.clear()
    position.send_keys("Chief Buyer")
    b.submit("main form button[type=submit]")
    b.settle("edit-conflict", status=409)
    check("Someone else changed this contact" in b.text(), "the stale edit is shown as a conflict")
    check("Head of Purchasing" in b.find(".conflict").text, "the other person's version is shown")
    check(b.find("#f-position").get_attribute("value") == "Chief Buyer", "what was typed is still in the form")
    b.find("main form button[type=submit]").click()
    b.wait.until(seen.url_matches(r"/contacts/[0-9a-f-]{36}$"))
    b.settle("edit-saved")
    check("Chief Buyer" in b.text(), "saved again over the other version, knowingly")


def import_a_csv_and_watch_it_finish(b):
    rows = ["first_name,last_name,E-Mail,city,country"]
    tag = uuid.uuid4().hex[:6]
    rows += [f"Ida,Import{tag}{n},ida.{tag}.{n}@example.org,Graz,AT" for n in range(400)]
    rows.append(f"Bad,Row{tag},not-an-address,Graz,AT")
    path = os.path.join(tempfile.mkdtemp(), f"import-{tag}.csv")
    with open(path, "w") as file:
        file.write("\n".join(rows) + "\n")
    b.open("/import")
    b.find("#file").send_keys(path)
    b.wait.until(lambda d: not d.find_element(By.ID, "mapping-columns").get_attribute("hidden"))
    b.settle("import-mapping")
    b.driver.find_element(By.CSS_SELECTOR, "select[data-header='E-Mail']").send_keys("email")
    b.find("form.import button[type=submit]").click()
    b.wait.until(seen.url_matches(r"/import/[0-9a-f-]{36}$"))
    b.settle("import-running")
    # The page reloads itself while the import runs: an element read as the reload replaces it is
    # stale, or not there yet; both mean "look again".
    WebDriverWait(b.driver, 60, ignored_exceptions=[NoSuchElementException, StaleElementReferenceException]).until(
        lambda d: "completed" in d.find_element(By.ID, "import-status").text)
    b.settle("import-done")
    check(b.find("#import-percent").text == "100 %", "the progress reaches 100 %")
    check(b.find("#import-progress").get_attribute("value") == b.find("#import-progress").get_attribute("max"), "the bar is full")
    counts = b.find("#import-counts").text
    check("400" in counts, f"400 contacts created: {counts}")
    check(b.driver.find_elements(By.CSS_SELECTOR, "a[href$='/errors.csv']"), "the error report can be downloaded")


def portal_quote_request_reaches_staff(b):
    b.sign_in(REP)
    b.open(b.state["contact"])
    emails = [a.text for a in b.driver.find_elements(By.CSS_SELECTOR, "dl.facts a[href^='mailto:']")]
    check(emails, "the contact has an e-mail address to sign in with")
    b.find(".page-actions form button[type=submit]").click()
    link = b.find("#portal-link").text
    b.settle("portal-access-granted")
    b.sign_out()
    b.open(link)
    b.find("#password").send_keys("portal password 42")
    b.find("#repeat").send_keys("portal password 42")
    b.submit("main form button[type=submit]")
    b.settle("portal-activated")
    check("Your account is active" in b.text(), "the customer has activated the account")
    b.find("#email").send_keys(emails[0])
    b.find("#password").send_keys("portal password 42")
    b.find("main form button[type=submit]").click()
    b.wait.until(seen.url_matches(r"/portal$"))
    b.settle("portal-home")
    for item in ["Products", "My requests", "My orders", "My tickets", "Complaints", "Wishes"]:
        check(b.driver.find_elements(By.LINK_TEXT, item), f"the portal's navigation has {item}")
    b.open("/portal/products")
    first = b.find("input[name^='qty-']")
    first.clear()
    first.send_keys("4")
    product = b.driver.find_element(By.CSS_SELECTOR, "table.list tbody tr td").text
    b.find("#message").send_keys("Delivery to the Graz warehouse.")
    b.find("#quote-request button[type=submit]").click()
    b.wait.until(seen.url_contains("/portal/requests/"))
    b.settle("portal-request")
    check(f"4 × {product}" in b.text(), "the request names the product and quantity")
    b.find("form.who button").click()
    b.wait.until(seen.url_contains("/portal/sign-in"))
    b.settle("portal-signed-out")
    b.sign_in(REP)
    b.open("/leads")
    row = b.find("table.list tbody tr")
    check(emails[0] in row.text and f"4 × {product}" in row.text, f"the newest lead is the customer's request: {row.text}")
    b.settle("staff-sees-lead")
    b.sign_out()


def orders_alerts_and_where_is_my_order(b):
    """The orders Tests/ERP/run.py published before this run: the list, one order, the alerts (one
    dismissed with a comment), and a customer's order status without an account."""
    b.sign_in(ADMIN)
    b.open("/orders")
    rows = b.driver.find_elements(By.CSS_SELECTOR, "table.list tbody tr td a")
    check(rows, "the orders the ERP published are listed")
    with_email = next(o for o in api("/api/v1/orders?limit=200")["items"]
                      if api(f"/api/v1/orders/{o['id']}")["customer"].get("email"))
    b.open(f"/orders/{with_email['id']}")
    check(with_email["order_number"] in b.find("h1").text, "the order's page names it")
    check(len(b.driver.find_elements(By.CSS_SELECTOR, "ol.timeline li")) >= 1, "its status history is shown")
    b.open("/alerts")
    cards = b.driver.find_elements(By.CSS_SELECTOR, "li.card[id^='alert-']")
    check(cards, "the open alerts are listed")
    first = cards[0].get_attribute("id")
    b.find(f"#{first} input[name=comment]").send_keys("the customer ordered twice on purpose")
    b.submit(f"#{first} button[formaction$='/dismiss']")
    b.settle("alert-dismissed")
    check(not b.driver.find_elements(By.CSS_SELECTOR, f"#{first}"), "a dismissed alert leaves the open list")
    b.open("/alerts?status=dismissed")
    check("the customer ordered twice on purpose" in b.find(f"#{first}").text, "the dismissal keeps its comment")
    b.sign_out()
    email = api(f"/api/v1/orders/{with_email['id']}")["customer"]["email"]
    b.open("/portal/order-status")
    b.find("#order_number").send_keys(with_email["order_number"])
    b.find("#email").send_keys(email.upper())
    b.submit("main form button[type=submit]")
    b.settle("order-status-found")
    check(with_email["order_number"] in b.text() and "Where it is" in b.text(), "the order's status without an account")
    b.open("/portal/order-status")
    b.find("#order_number").send_keys(with_email["order_number"])
    b.find("#email").send_keys("someone.else@example.com")
    b.driver.execute_script("window.switchboardBeforeSubmit = true")
    b.find("main form button[type=submit]").click()
    WebDriverWait(b.driver, 10, ignored_exceptions=[WebDriverException]).until(
        lambda d: d.execute_script("return document.readyState === 'complete' && window.switchboardBeforeSubmit !== true"))
    b.settle("order-status-refused", status=404)
    check("We found no order" in b.text() and "Where it is" not in b.text(), "another e-mail address learns nothing")


def api(path, method="GET", body=None):
    """A call of the public API with the admin key, as another client than the browser."""
    request = urllib.request.Request(os.environ["SWITCHBOARD_GATEWAY_URL"] + path, method=method,
                                     data=json.dumps(body).encode() if body is not None else None)
    request.add_header("Authorization", "Bearer " + os.environ["SWITCHBOARD_ADMIN_KEY"])
    request.add_header("Content-Type", "application/json")
    if method == "PATCH":
        current = api(path)
        request.add_header("If-Match", f'"{current["version"]}"')
    with urllib.request.urlopen(request) as answer:
        return json.loads(answer.read() or b"null")


STEPS = [sign_in_and_home, search_and_open_a_contact, log_a_call, contact_list_filters_and_pages, create_a_deal_and_win_it_on_the_board,
         a_stale_edit_shows_a_conflict, import_a_csv_and_watch_it_finish, rep_is_not_admin, portal_quote_request_reaches_staff,
         plan_the_week_and_work_a_call_list, admin_creates_a_user, admin_pages_answer, orders_alerts_and_where_is_my_order]


def main():
    base, folder = sys.argv[1], sys.argv[2]
    os.makedirs(folder, exist_ok=True)
    for old in os.listdir(folder):
        if old.endswith(".png"):
            os.remove(os.path.join(folder, old))
    b = Browser(base, folder)
    failed = 0
    try:
        for step in STEPS:
            started = time.monotonic()
            try:
                step(b)
                print(f"  ok    {step.__name__} ({time.monotonic() - started:.1f} s)")
            except Exception as error:  # the step's failure, with the page it was on
                failed += 1
                b.driver.save_screenshot(os.path.join(folder, f"failed-{step.__name__}.png"))
                print(f"  FAIL  {step.__name__}: {error} (at {b.driver.current_url})")
                break  # later steps build on earlier ones
    finally:
        b.driver.quit()
    print(f"browser: {len(STEPS) - failed if not failed else STEPS.index(step)} of {len(STEPS)} steps passed; {b.shots} screenshots in {folder}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
