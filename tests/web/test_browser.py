"""End to end in a real browser: Debian's Chromium, headless, driven by Playwright, against
the service running in its own process on 127.0.0.1 and the test database.

Screenshots of every page at 360 px and at desktop width go to `var/screenshots/` (not
committed). Without Chromium or Playwright these tests skip and say why.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from service.registry.domain import today_local
from service.settings import PROJECT_ROOT
from tests.factories import Registry, id_number, phone, post_request, training_body
from tests.web.helpers import PASSWORD, STAFF_PASSWORD, bureau_staff

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SHOTS = PROJECT_ROOT / "var" / "screenshots"
PHONE, DESKTOP = {"width": 360, "height": 780}, {"width": 1280, "height": 900}

try:
    from playwright.async_api import async_playwright
except ImportError:  # pragma: no cover - the dev extra installs it
    async_playwright = None

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        async_playwright is None, reason="Playwright for Python is not installed (pip install -e '.[dev]')"
    ),
    pytest.mark.skipif(
        not Path(CHROMIUM).exists(),
        reason=f"Chromium not found at {CHROMIUM} (apt-get install -y chromium, or set CHROMIUM_PATH)",
    ),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(settings):
    """`python -m service run` in a subprocess, on the test database, with the tests' keys."""
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": settings.database_url,
        "SECRET_KEY": settings.secret_key,
        "DATA_KEY": settings.data_key,
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "RUN_DISPATCHER": "false",
        "WARM_MATCHER": "false",
        "LOG_LEVEL": "WARNING",
        "STORE_NAMESPACE": settings.store_namespace + "-e2e",
        "RATE_LIMIT_PER_MINUTE": "100000",
        # Its metrics listener on a port of its own, so parallel runs do not collide.
        "METRICS_HOST": "127.0.0.1",
        "METRICS_PORT": str(_free_port()),
    }
    if settings.redis_url:
        env["REDIS_URL"] = settings.redis_url
    else:
        env.pop("REDIS_URL", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "service", "run"],
        env=env,
        cwd=PROJECT_ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail("the service did not start: " + process.stderr.read().decode()[-2000:])
        time.sleep(0.2)
    yield base
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()


@pytest.fixture(scope="module")
def shots_dir():
    SHOTS.mkdir(parents=True, exist_ok=True)  # each page's files are replaced by name
    return SHOTS


class Offline:
    """The network cut off: every request a page makes to anywhere but 127.0.0.1 is
    aborted as if there were no internet, and remembered so the test can say which."""

    def __init__(self) -> None:
        self.outside: list[str] = []
        self.served = 0

    async def context(self, browser):
        context = await browser.new_context(viewport=PHONE, locale="zh-CN")
        await context.route("**/*", self._handle)
        return context

    async def _handle(self, route) -> None:
        if urlsplit(route.request.url).hostname == "127.0.0.1":
            self.served += 1
            await route.continue_()
        else:
            self.outside.append(route.request.url)
            await route.abort("internetdisconnected")

    def check(self) -> None:
        assert self.served > 0
        assert not self.outside, f"requests that left 127.0.0.1: {self.outside}"


# What a keyboard can reach: everything clickable or typable that is on the screen.
FOCUSABLE = """() => {
  const items = [...document.querySelectorAll('a[href], button, input:not([type=hidden]), select, textarea, summary')]
    .filter(e => e.checkVisibility({visibilityProperty: true}) && !e.disabled && !e.closest('[inert]'));
  items.forEach((e, i) => { e.dataset.kb = e.type === 'radio' ? 'radio:' + e.name : String(i); });
  return [...new Set(items.map(e => e.dataset.kb))];
}"""


class Screens:
    """Takes each page at phone and desktop width and checks what a phone needs."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.count = 0

    async def shoot(self, page, name: str) -> None:
        await page.wait_for_load_state("networkidle")
        # Offline: the service's own CSS and htmx are in use, and nothing came from elsewhere.
        assert (
            await page.evaluate("getComputedStyle(document.querySelector('header.top')).backgroundColor")
            == "rgb(163, 25, 15)"
        ), f"{name}: the stylesheet did not load"
        if await page.locator("script[src='/static/htmx.min.js']").count():
            assert await page.evaluate("typeof window.htmx === 'object'"), f"{name}: htmx did not load"
        hosts = await page.evaluate("[...performance.getEntriesByType('resource')].map(r => new URL(r.name).hostname)")
        assert set(hosts) <= {"127.0.0.1"}, f"{name}: resources from {set(hosts)}"
        await self._keyboard(page, name)
        # Readable at 360 px: nothing wider than the screen; touch targets at least 44 px high.
        overflow = await page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"{name}: {overflow}px wider than a 360 px screen"
        small = await page.evaluate("""() => [...document.querySelectorAll(
            'main button, main .btn, main summary, main input:not([type=hidden]):not([type=checkbox]):not([type=radio]), main select')]
            .filter(e => e.offsetParent !== null && e.getBoundingClientRect().height < 43.5)
            .map(e => e.outerHTML.slice(0, 80))""")
        assert not small, f"{name}: touch targets under 44 px: {small}"
        unlabeled = await page.evaluate("""() => [...document.querySelectorAll(
            'input:not([type=hidden]), select, textarea')].filter(e => !(e.labels && e.labels.length) &&
            !e.getAttribute('aria-label')).map(e => e.name)""")
        assert not unlabeled, f"{name}: fields without a label: {unlabeled}"
        await page.screenshot(path=str(self.folder / f"{name}-360.png"), full_page=True)
        await page.set_viewport_size(DESKTOP)
        await page.screenshot(path=str(self.folder / f"{name}-1280.png"), full_page=True)
        await page.set_viewport_size(PHONE)
        self.count += 1

    async def _keyboard(self, page, name: str) -> None:
        """Tab from the top of the page: every control on the screen gets the focus (a radio
        group once, as browsers do), within two presses per control."""
        wanted = set(await page.evaluate(FOCUSABLE))
        # Start at the first control (the skip link), as a fresh page would.
        first = await page.evaluate(
            "(() => { const e = document.querySelector('[data-kb]'); e.focus(); return e.dataset.kb; })()"
        )
        reached: set[str] = {first}
        for _ in range(2 * len(wanted) + 10):  # room for stops that are not controls (scrollable regions)
            await page.keyboard.press("Tab")
            key = await page.evaluate("document.activeElement && document.activeElement.dataset.kb")
            if key is None:
                continue
            reached.add(key)
            if reached >= wanted:
                break
        missed = await page.evaluate(
            "keys => [...document.querySelectorAll('[data-kb]')].filter(e => keys.includes(e.dataset.kb))"
            ".map(e => e.outerHTML.slice(0, 80))",
            sorted(wanted - reached),
        )
        assert not missed, f"{name}: not reachable by keyboard: {missed}"
        await page.evaluate("window.scrollTo(0, 0)")


async def _browser(playwright):
    return await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)


async def _sign_in(context, base: str, phone_number: str, password: str):
    page = await context.new_page()
    await page.goto(f"{base}/login")
    await page.get_by_label("手机号").fill(phone_number)
    await page.get_by_label("密码").fill(password)
    await page.get_by_role("button", name="登录").click()
    await page.wait_for_load_state("networkidle")
    return page


async def test_household_offers_worker_accepts_household_reviews_public_page_shows_rating(
    client, actors, server, shots_dir
):
    screens, offline = Screens(shots_dir), Offline()
    registry = await Registry(client, actors).setup()
    person, worker = await registry.worker(
        real_name="陈秀英",
        certificate_level=4,
        available_from=None,
        skills=["maternity_postpartum_care"],
        trained_on=today_local() - timedelta(days=60),
    )
    employer = await actors.employer()
    today = today_local()

    async with async_playwright() as playwright:
        browser = await _browser(playwright)
        anonymous = await offline.context(browser)
        page = await anonymous.new_page()
        for path, name in (
            ("/", "home"),
            ("/login", "login"),
            ("/signup", "signup"),
            ("/login/agency", "login-agency"),
            ("/password-reset", "password-reset"),
            ("/c", "public-lookup"),
            ("/c/NOPE-AAAAAAAA", "error-not-found"),
        ):
            await page.goto(server + path)
            await screens.shoot(page, name)

        household = await offline.context(browser)
        page = await _sign_in(household, server, employer.phone, PASSWORD)
        assert page.url.endswith("/household")
        await screens.shoot(page, "household-dashboard")
        await page.get_by_role("link", name="发布新需求，找阿姨").click()
        await screens.shoot(page, "household-choose-category")
        await page.get_by_role("link", name="母婴护理（月嫂、育婴）").click()
        await page.get_by_label("母婴护理（月嫂）").check()
        await page.get_by_label("用自己的话说说要求").fill("照顾刚出生的宝宝，会做粤菜")
        # Understood as she types (htmx, served by the service itself).
        await page.locator("#understood").get_by_text("粤菜烹饪").wait_for(timeout=10_000)
        await page.get_by_label("开始日期").fill(today.isoformat())
        await page.get_by_label("结束日期").fill((today + timedelta(days=26)).isoformat())
        await page.get_by_label("最低（元）").fill("6000")
        await page.get_by_label("最高（元）").fill("9000")
        await screens.shoot(page, "household-request-form")
        await page.get_by_role("button", name="发布并查看匹配的阿姨").click()
        await page.get_by_role("heading", name=re.compile("为您找到 1 位阿姨")).wait_for()
        card = page.locator("article", has_text="陈阿姨")
        assert "✓ 母婴护理员 4 级" in await card.inner_text()
        assert "陈秀英" not in await page.content()
        await screens.shoot(page, "household-matches")
        await card.get_by_label("留言（可不填）").fill("月子期间住家")
        await card.get_by_role("button", name="发邀约给陈阿姨").click()
        await page.get_by_text("待答复").first.wait_for()
        request_url = page.url.split("#")[0]

        her = await offline.context(browser)
        worker_page = await _sign_in(her, server, person.phone, PASSWORD)
        assert worker_page.url.endswith("/worker")
        await worker_page.get_by_text("雇主留言：月子期间住家").wait_for()
        await screens.shoot(worker_page, "worker-dashboard")
        await worker_page.get_by_role("button", name="接受").click()
        await worker_page.wait_for_url(re.compile(r"/worker/placements/\d+"))
        await screens.shoot(worker_page, "worker-placement")
        await worker_page.goto(f"{server}/worker/profile")
        await screens.shoot(worker_page, "worker-profile")
        await worker_page.goto(f"{server}/worker")
        certificate_href = await worker_page.get_by_role("link", name=re.compile("居家上门服务证")).get_attribute(
            "href"
        )

        public = await anonymous.new_page()
        await public.goto(server + certificate_href)
        before = await public.locator(".stars").get_attribute("aria-label")

        await page.goto(request_url)
        await page.get_by_role("link", name=re.compile("服务记录")).click()
        await page.get_by_role("button", name="服务已完成").wait_for()  # the placement's page has loaded
        assert person.phone in await page.content()  # her phone, now that she accepted
        await page.get_by_role("button", name="服务已完成").click()
        for legend in ("服务质量", "沟通", "守时可靠", "诚实"):
            await page.get_by_role("group", name=legend).get_by_label("5").check()
        await page.get_by_label("说说阿姨做得怎样（可不填）").fill("非常细心，宝宝照顾得很好")
        await screens.shoot(page, "household-placement")
        await page.get_by_role("button", name="提交评价").click()
        await page.get_by_text("您的评价：平均 5.0 分").wait_for()

        rating = (await client.get(f"/api/v1/workers/{worker['id']}/integrity", headers=registry.admin.headers)).json()
        assert rating["history"][0]["reason"].startswith("review")
        await public.reload()
        after = await public.locator(".stars").get_attribute("aria-label")
        assert after == f"{rating['stars']} 星", (before, after, rating["stars"])
        assert "陈*英" in await public.content() and person.phone not in await public.content()
        assert await public.locator(".qr img").evaluate("img => img.naturalWidth > 0")
        await screens.shoot(public, "public-certificate")
        await browser.close()
    assert screens.count == 16
    offline.check()


async def test_worker_finds_a_job_says_she_is_interested_and_later_leaves_with_notice(
    client, actors, server, shots_dir
):
    screens = Screens(shots_dir)
    registry = await Registry(client, actors).setup()
    person, worker = await registry.worker(real_name="陈秀英", available_from=None)
    employer = await actors.employer()
    today = today_local()
    job = await client.post(
        "/api/v1/job-requests",
        headers=employer.headers,
        json={
            "category": "maternity",
            "skills": ["maternity_postpartum_care"],
            "district_code": "441802",
            "start_date": today.isoformat(),
            "end_date": (today + timedelta(days=26)).isoformat(),
            "budget_min": 7000,
            "budget_max": 9000,
            "budget_unit": "month",
            "household_notes": "住松岗路18号",
        },
    )
    assert job.status_code == 201, job.text
    job_id = job.json()["id"]

    async with async_playwright() as playwright:
        browser = await _browser(playwright)
        her = await browser.new_context(viewport=PHONE, locale="zh-CN")
        page = await _sign_in(her, server, person.phone, PASSWORD)
        await page.get_by_role("link", name="适合我的工作").click()
        card = page.locator(f"#r{job_id}")
        await card.wait_for()
        assert "清城区" in await card.inner_text() and "松岗路" not in await page.content()
        await screens.shoot(page, "worker-open-requests")
        await card.get_by_role("button", name="我有意向").click()
        await page.locator(f"#r{job_id}").get_by_text("已表示有意向").wait_for()

        household = await browser.new_context(viewport=PHONE, locale="zh-CN")
        home = await _sign_in(household, server, employer.phone, PASSWORD)
        await home.goto(f"{server}/household/requests/{job_id}")
        await home.locator("article", has_text="陈阿姨").get_by_text("她有意向").wait_for()
        await screens.shoot(home, "household-matches-interest")
        await home.locator("article", has_text="陈阿姨").get_by_role("button", name="发邀约给陈阿姨").click()
        await home.get_by_text("待答复").first.wait_for()

        await page.goto(f"{server}/worker")
        await page.get_by_role("button", name="接受").click()
        await page.wait_for_url(re.compile(r"/worker/placements/\d+"))
        await page.get_by_text("我要结束这份工作").click()
        await page.get_by_label("结束原因").select_option("family")
        await page.get_by_label("说明").fill("家里老人生病")
        await screens.shoot(page, "worker-resign")
        await page.get_by_role("button", name="确认结束服务").click()
        await page.get_by_text("不影响诚信评价").wait_for()
        assert "提前 7 天通知" in await page.content()
        await browser.close()
    assert screens.count == 3


def _csv(rows: list[list[str]]) -> bytes:
    header = "姓名,性别,出生日期,身份证号,手机号,服务区县,服务类别,技能,期望工资最低,期望工资最高,住家\n"
    return (header + "".join(",".join(r) + "\n" for r in rows)).encode("utf-8")


async def test_clerk_imports_a_csv_with_one_bad_row_and_the_bureau_sees_its_queues(client, actors, server, shots_dir):
    screens, offline = Screens(shots_dir), Offline()
    agency = await actors.agency("housekeeping")
    staff_phone, _ = bureau_staff(client)
    rows = []
    for n, name in enumerate(("陈秀英", "李美玲", "黄丽", "周小红")):
        born = date(1980 + n, 3, 7)
        rows.append(
            [
                name,
                "女",
                born.isoformat(),
                id_number(born),
                phone(),
                "清城区、清新区",
                "母婴",
                "母婴护理（月嫂）",
                "6000",
                "8000",
                "是",
            ]
        )
    rows[2][2] = "1990-01-01"  # does not match the ID number

    async with async_playwright() as playwright:
        browser = await _browser(playwright)
        clerk = await offline.context(browser)
        page = await clerk.new_page()
        await page.goto(f"{server}/login/agency")
        await page.get_by_label("API 密钥").fill(agency.key)
        await page.get_by_role("button", name="登录").click()
        await page.wait_for_url(re.compile(r"/agency$"))
        await page.get_by_role("link", name="从表格批量导入").click()
        await screens.shoot(page, "agency-import")
        await page.get_by_label("选择文件").set_input_files(
            {"name": "workers.csv", "mimeType": "text/csv", "buffer": _csv(rows)}
        )
        await page.get_by_role("button", name="预览").click()
        await page.get_by_text("出生日期：与身份证号中的出生日期不一致").wait_for()
        await screens.shoot(page, "agency-import-preview")
        await page.get_by_role("button", name="只导入没有错误的 3 行").click()
        await page.get_by_text("已保存 3 位家政服务员").wait_for()
        await page.get_by_role("link", name="返回名单").click()
        assert await page.locator("tbody tr").count() == 3
        assert "黄丽" not in await page.locator("tbody").inner_text()
        await screens.shoot(page, "agency-dashboard")
        await page.get_by_role("link", name="陈秀英").click()
        await screens.shoot(page, "agency-worker")
        await page.goto(f"{server}/agency/workers/new")
        await screens.shoot(page, "agency-worker-new")

        bureau = await offline.context(browser)
        page = await _sign_in(bureau, server, staff_phone, STAFF_PASSWORD)
        assert page.url.endswith("/bureau")
        await screens.shoot(page, "bureau-queues")
        await browser.close()
    assert screens.count == 6
    offline.check()


async def test_household_edits_a_request_ends_a_placement_early_and_the_bureau_verifies_a_check(
    client, actors, server, shots_dir
):
    """With the network cut off: the household sets her request's location and radius, ends
    a placement early, reviews and then edits the review; the bureau verifies a health
    check and sees who decided and when."""
    screens, offline = Screens(shots_dir), Offline()
    registry = await Registry(client, actors).setup()
    person, worker = await registry.worker(real_name="邓翠红", available_from=None)
    employer = await actors.employer()
    today = today_local()
    placed = await post_request(
        client, employer, start_date=today.isoformat(), end_date=(today + timedelta(days=5)).isoformat()
    )
    offer = await client.post(
        f"/api/v1/job-requests/{placed['id']}/offers", headers=employer.headers, json={"worker_id": worker["id"]}
    )
    placement = await client.post(f"/api/v1/offers/{offer.json()['id']}/accept", headers=person.headers)
    assert placement.status_code == 201, placement.text
    open_request = await post_request(client, employer, start_date=(today + timedelta(days=10)).isoformat())

    agency = await actors.agency("housekeeping")
    born = date(1982, 6, 6)
    made = await client.post(
        "/api/v1/workers",
        headers=agency.headers,
        json={
            "real_name": "欧阳慧",
            "gender": "female",
            "birth_date": born.isoformat(),
            "id_number": id_number(born),
            "phone": phone(),
            "district_codes": ["441802"],
            "categories": ["household"],
            "wage_min": 5000,
            "wage_max": 6000,
        },
    )
    assert made.status_code == 201, made.text
    check = await client.post(
        f"/api/v1/workers/{made.json()['id']}/checks",
        headers=agency.headers,
        json={"kind": "health", "tier": "home", "result": "passed", "checked_on": today.isoformat()},
    )
    assert check.status_code == 201 and check.json()["status"] == "pending"
    staff_phone, _ = bureau_staff(client)

    async with async_playwright() as playwright:
        browser = await _browser(playwright)
        household = await offline.context(browser)
        page = await _sign_in(household, server, employer.phone, PASSWORD)
        await page.goto(f"{server}/household/requests/{open_request['id']}")
        await page.get_by_role("link", name="修改需求").click()
        await page.get_by_label("纬度").fill("23.68")
        await page.get_by_label("经度").fill("113.05")
        await page.get_by_label("范围（公里）").fill("15")
        await screens.shoot(page, "household-request-edit")
        await page.get_by_role("button", name="保存修改").click()
        await page.get_by_text("15 公里内").wait_for()

        await page.goto(f"{server}/household/placements/{placement.json()['id']}")
        await page.get_by_text("提前结束服务 / 阿姨没有来").click()
        await page.get_by_label("原因（必填）").fill("家里老人住院，提前结束")
        await screens.shoot(page, "household-placement-terminate")
        await page.get_by_role("button", name="结束服务").click()
        await page.get_by_text("已终止").first.wait_for()
        for legend in ("服务质量", "沟通", "守时可靠", "诚实"):
            await page.get_by_role("group", name=legend).get_by_label("5").check()
        await page.get_by_role("button", name="提交评价").click()
        await page.get_by_text("您的评价：平均 5.0 分").wait_for()
        await page.get_by_text("修改评价").click()
        await page.get_by_role("group", name="守时可靠").get_by_label("3").check()
        await screens.shoot(page, "household-review-edit")
        await page.get_by_role("button", name="保存修改").click()
        await page.get_by_text("您的评价：平均 4.5 分").wait_for()

        bureau = await offline.context(browser)
        page = await _sign_in(bureau, server, staff_phone, STAFF_PASSWORD)
        card = page.locator(".card", has_text="欧阳慧")
        await card.get_by_label("理由（驳回时请写明）").fill("核对原件")
        await screens.shoot(page, "bureau-queue-pending")
        await card.get_by_role("button", name="核验通过").click()
        decided = page.locator("#decided-credentials tr", has_text="欧阳慧")
        await decided.wait_for()
        assert "审核员" in await decided.inner_text() and "已核验" in await decided.inner_text()
        await browser.close()
    assert screens.count == 4
    offline.check()


async def test_a_bureau_user_verifies_a_training_and_reads_the_report(client, actors, server, shots_dir):
    screens, offline = Screens(shots_dir), Offline()
    registry = await Registry(client, actors).setup()
    _, worker = await registry.worker(real_name="邓美华", health=None)
    id_no = registry.id_numbers[worker["id"]]
    finished = today_local() - timedelta(days=40)
    created = await client.post(
        f"/api/v1/workers/{worker['id']}/trainings",
        headers=registry.trainer.headers,
        json=training_body(
            id_number=id_no,
            course="育婴员（四级）培训",
            started_on=(finished - timedelta(days=20)).isoformat(),
            finished_on=finished.isoformat(),
        ),
    )
    assert created.status_code == 201, created.text
    await actors.training_evidence(registry.trainer, worker["id"], id_no, created.json())
    staff_phone, _ = bureau_staff(client)

    async with async_playwright() as playwright:
        browser = await _browser(playwright)
        bureau = await offline.context(browser)
        page = await _sign_in(bureau, server, staff_phone, STAFF_PASSWORD)
        card = page.locator(".card", has_text="邓美华")
        await card.get_by_role("button", name="核验通过").click()
        await page.wait_for_load_state("networkidle")
        assert await page.locator(".card", has_text="邓美华").count() == 0

        await page.get_by_role("link", name="报表", exact=True).click()
        await page.get_by_label("结业日期从").fill((finished - timedelta(days=5)).isoformat())
        await page.get_by_label("至", exact=True).fill((finished + timedelta(days=5)).isoformat())
        await page.get_by_role("button", name="查看报表").click()
        await page.wait_for_load_state("networkidle")
        assert await page.locator("svg.chart").count() == 2
        total = page.locator("#table ~ .table-wrap tbody tr", has_text="合计")
        # The one training just verified: 培训人次 (after 汇总层级, 项目, 项目名称) is 1 in the total row.
        assert (await total.locator("td").nth(3).inner_text()).strip() == "1"
        assert await page.get_by_role("link", name="下载 Excel").count() == 1
        await screens.shoot(page, "bureau-report")
        await page.get_by_role("link", name="补贴异常", exact=True).click()
        await screens.shoot(page, "bureau-flags")

        school = await offline.context(browser)
        page = await school.new_page()
        await page.goto(f"{server}/login/agency")
        await page.get_by_label("API 密钥").fill(registry.trainer.key)
        await page.get_by_role("button", name="登录").click()
        await page.wait_for_url(re.compile(r"/agency/institution$"))
        assert "育婴员（四级）培训" in await page.locator("#trainings ~ .table-wrap").first.inner_text()
        await screens.shoot(page, "institution")
        await browser.close()
    assert screens.count == 3
    offline.check()
