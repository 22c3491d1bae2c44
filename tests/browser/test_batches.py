"""Batch page (issue 15): a bad CSV is refused with its row and field before anything is created; a CSV batch
and a 3 x 3 sweep run to the end against the stand-in; the compare grid shows the right cells with time and
cost; History filters by the batch; the page fits a phone."""
import csv
import io
import re
import uuid
import zipfile

from playwright.sync_api import Page, expect

from conftest import new_context


def fill_new_batch(page: Page, name: str, prompt: str, source: str, data: str = "") -> None:
    form = page.locator("#batch-form")
    form.get_by_label("Name").fill(name)
    form.get_by_label("Prompt template").fill(prompt)
    form.get_by_label("Rows from").select_option(source)
    form.get_by_label("Rows", exact=True).fill(data)


def test_csv_batch_validation_run_grid_and_history(page: Page, server):
    tag = uuid.uuid4().hex[:8]
    page.goto("/batch.html")
    # A CSV without the column the template names: the row-less header problem is listed, nothing is created.
    fill_new_batch(page, f"csv {tag}", "A {{animal}} drawn in {{style}}", "csv", "animal\nfox\nowl")
    errors = page.locator("#batch-errors li")
    expect(errors.first).to_contain_text("style")
    page.get_by_role("button", name="Create batch").click()
    expect(page.locator("#batch-estimate")).to_have_attribute("data-valid", "false")
    expect(page.locator("#batch-section")).to_be_hidden()
    status, listed = server.api("GET", "/v1/batches?limit=100")
    assert status == 200 and not [b for b in listed["data"] if b["name"] == f"csv {tag}"]

    # A row with a missing cell names that row and field.
    page.locator("#batch-form").get_by_label("Rows", exact=True).fill(f"animal,style\nfox {tag},ink\nowl {tag}")
    expect(page.locator('#batch-errors li[data-row="2"]')).to_be_visible()

    page.locator("#batch-form").get_by_label("Rows", exact=True).fill(f"animal,style\nfox {tag},ink\nowl {tag},watercolour")
    expect(page.locator("#batch-estimate")).to_have_attribute("data-valid", "true")
    expect(page.locator("#batch-estimate")).to_contain_text(re.compile(r"2 jobs from 2 rows · estimated \$\d"))
    expect(errors).to_have_count(0)
    page.get_by_role("button", name="Create batch").click()

    summary = page.locator("#batch-summary")
    expect(summary).to_contain_text("2 succeeded", timeout=60_000)
    # Once settled, the list of batches is reloaded too (it said "running · 0/2" for a finished batch).
    expect(page.locator("#batch-list li", has_text=f"csv {tag}")).to_contain_text("completed · 2/2")
    batch_id = page.evaluate("decodeURIComponent(location.hash.slice(1))")
    status, batch = server.api("GET", f"/v1/batches/{batch_id}")
    assert status == 200 and batch["counts"]["succeeded"] == 2, batch
    status, jobs = server.api("GET", f"/v1/batches/{batch_id}/jobs")
    assert status == 200 and len(jobs["data"]) == 2

    # Rows by animal, columns by style: fox/ink and owl/watercolour filled, the other two cells empty.
    grid = page.locator("#compare-grid")
    expect(grid.locator("tbody tr")).to_have_count(2)
    expect(grid.locator("thead th")).to_have_text(["animal", "ink", "watercolour"])
    for job in jobs["data"]:
        cell = grid.locator(f'.compare-cell[data-job-id="{job["id"]}"]')
        expect(cell.locator("img")).to_have_attribute("src", re.compile(r"/v1/images/.+/thumbnail"))
        cost = job["cost_usd"]
        assert cost is not None and cost > 0
        expect(cell.locator(".compare-cost")).to_have_text(re.compile(r"^\$\d"))
        expect(cell.locator(".compare-time")).to_have_text(re.compile(r"^\d+\.\d s$"))
        row = grid.locator("tbody tr", has=page.locator(f'.compare-cell[data-job-id="{job["id"]}"]'))
        expect(row.locator("th")).to_have_text(job["batch"]["variables"]["animal"])
    expect(grid.locator("tbody td:empty")).to_have_count(2)

    # The ZIP holds batch.csv (parameters, cost, file names) and each output it names.
    with page.expect_download() as info:
        page.get_by_role("link", name="Download ZIP").click()
    archive = zipfile.ZipFile(info.value.path())
    rows = list(csv.DictReader(io.StringIO(archive.read("batch.csv").decode("utf-8"), newline="")))
    assert [r["animal"] for r in rows] == [f"fox {tag}", f"owl {tag}"]
    assert [r["style"] for r in rows] == ["ink", "watercolour"]
    for row, job in zip(rows, jobs["data"]):
        assert abs(float(row["cost_usd"]) - job["cost_usd"]) < 1e-12
        assert row["status"] == "succeeded" and len(archive.read(row["file"])) == job["images"][0]["bytes"]

    # History shows exactly this batch's jobs.
    page.get_by_role("link", name="Show in History").click()
    expect(page).to_have_url(re.compile(rf"#/history\?batch={batch_id}$"))
    expect(page.locator("#panel-history").get_by_label("Batch")).to_have_value(batch_id)
    cards = page.locator("#panel-history .h-card:not(.is-skeleton)")
    expect(cards).to_have_count(2)
    assert sorted(cards.evaluate_all("cs => cs.map(c => c.dataset.jobId)")) == sorted(j["id"] for j in jobs["data"])


def test_sweep_three_by_three_fills_the_grid(page: Page, server):
    tag = uuid.uuid4().hex[:8]
    page.goto("/batch.html")
    fill_new_batch(page, f"sweep {tag}", f"A teapot {tag}", "none")
    for group, values in (("Qualities", ["low", "medium", "high"]), ("Sizes", ["1024x1024", "1536x1024", "1024x1536"])):
        for value in values:
            page.get_by_role("group", name=group).get_by_label(value, exact=True).check()
    expect(page.locator("#batch-estimate")).to_contain_text("9 jobs from 1 row", timeout=10_000)
    page.get_by_role("button", name="Create batch").click()
    expect(page.locator("#batch-summary")).to_contain_text(re.compile(r"9 succeeded, .* of 9 "), timeout=90_000)

    grid = page.locator("#compare-grid")
    page.get_by_label("Grid rows").select_option("quality")
    page.get_by_label("Grid columns").select_option("size")
    expect(grid.locator("thead th")).to_have_text(["quality", "1024x1024", "1536x1024", "1024x1536"])
    expect(grid.locator("tbody th")).to_have_text(["low", "medium", "high"])
    expect(grid.locator("tbody td .compare-cell")).to_have_count(9)
    for td in grid.locator("tbody td").all():
        expect(td.locator(".compare-cell")).to_have_count(1)
        expect(td.locator(".compare-cost")).to_have_text(re.compile(r"^\$\d"))
    batch_id = page.evaluate("decodeURIComponent(location.hash.slice(1))")
    status, jobs = server.api("GET", f"/v1/batches/{batch_id}/jobs")
    assert status == 200
    for job in jobs["data"]:
        cell = grid.locator(f'.compare-cell[data-job-id="{job["id"]}"]')
        column = cell.evaluate("c => c.closest('td').cellIndex")
        assert column == ["1024x1024", "1536x1024", "1024x1536"].index(job["params"]["size"]) + 1
        row = grid.locator("tbody tr", has=page.locator(f'.compare-cell[data-job-id="{job["id"]}"]'))
        expect(row.locator("th")).to_have_text(job["params"]["quality"])

    # Pick a winner: it is kept (the job's favourite) across a reload; "Use as input" opens Edit with its image.
    winner = jobs["data"][4]
    cell = grid.locator(f'.compare-cell[data-job-id="{winner["id"]}"]')
    cell.get_by_role("button", name=re.compile("^Winner")).click()
    expect(cell.get_by_role("button", name=re.compile("^Winner"))).to_have_attribute("aria-pressed", "true")
    status, kept = server.api("GET", f"/v1/jobs/{winner['id']}")
    assert status == 200 and kept["favorite"] is True
    page.reload()
    expect(page.locator(f'.compare-cell[data-job-id="{winner["id"]}"] .compare-winner')).to_have_attribute("aria-pressed", "true")
    assert page.locator('.compare-winner[aria-pressed="true"]').count() == 1
    page.locator(f'.compare-cell[data-job-id="{winner["id"]}"]').get_by_role("link", name=re.compile("^Use .* as input$")).click()
    # Edit takes the image from the link's `image_id` and drops the query at once (`edit.js` show), so what stays
    # is Edit with that image in its tray (waiting for the transient URL raced the studio at load 15).
    expect(page).to_have_url(re.compile(r"/#/edit$"))
    expect(page.locator(f'#panel-edit img[src*="{winner["images"][0]["id"]}"]').first).to_be_visible()
    page.go_back()

    # Delete asks first, then removes the batch.
    page.get_by_role("button", name="Delete").click()
    page.get_by_role("dialog").get_by_role("button", name="Delete").click()
    expect(page.locator("#batch-section")).to_be_hidden()
    status, _ = server.api("GET", f"/v1/batches/{batch_id}")
    assert status == 404


def test_openai_batch_mode_shows_the_openai_state_and_charges_half_price(page: Page, server):
    """Mode openai_batch in the real server: its poller uploads the JSONL, creates the OpenAI batch on the stand-in,
    polls it, and the page shows the OpenAI batch's state until every row is a job at half the live price."""
    tag = uuid.uuid4().hex[:8]
    page.goto("/batch.html")
    fill_new_batch(page, f"openai {tag}", f"A {{{{line}}}} {tag}", "lines", "fox\nowl\nhare")
    page.locator("#batch-form").get_by_label("Mode", exact=True).select_option("openai_batch")
    expect(page.locator("#batch-estimate")).to_contain_text("3 jobs", timeout=10_000)
    page.get_by_role("button", name="Create batch").click()
    summary = page.locator("#batch-summary")
    expect(summary).to_contain_text("OpenAI Batch")
    expect(summary).to_contain_text(re.compile(r"running \(OpenAI: (validating|in progress|finalizing)\)"), timeout=60_000)
    expect(summary).to_contain_text(re.compile(r"completed \(OpenAI: completed\) · 3 succeeded"), timeout=120_000)
    expect(page.locator("#compare-grid .compare-cell img")).to_have_count(3)

    batch_id = page.evaluate("decodeURIComponent(location.hash.slice(1))")
    status, jobs = server.api("GET", f"/v1/batches/{batch_id}/jobs")
    assert status == 200
    status, batch = server.api("GET", f"/v1/batches/{batch_id}")
    assert batch["upstream_batch_id"].startswith("batch_") and batch["upstream_status"] == "completed"
    first = jobs["data"][0]
    params = first["params"]
    live = server.create_job(params["prompt"], model=params["model"], size=params["size"], quality=params["quality"])
    assert abs(first["cost_usd"] * 2 - live["cost_usd"]) <= 2e-9, (first["cost_usd"], live["cost_usd"])


def test_batch_page_fits_a_phone_and_works_by_keyboard(browser, server):
    ctx = new_context(browser, server, width=375, height=740)
    page = ctx.new_page()
    try:
        page.goto("/batch.html")
        expect(page.get_by_role("group", name="Qualities")).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
        page.get_by_label("Name", exact=True).focus()
        page.keyboard.type("keyboard batch")
        page.keyboard.press("Tab")
        expect(page.get_by_label("Mode", exact=True)).to_be_focused()
        page.keyboard.press("Tab")
        expect(page.get_by_label("Prompt template")).to_be_focused()
        page.keyboard.type("A kettle")
        page.get_by_role("group", name="Qualities").get_by_label("low", exact=True).focus()
        page.keyboard.press("Space")
        expect(page.locator("#batch-estimate")).to_contain_text("1 job from 1 row")
    finally:
        ctx.close()
