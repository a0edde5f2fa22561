// press.js - open the landing page in Debian's Chromium with a language,
// save a screenshot, toggle checkboxes from the keyboard (Tab to each,
// Space; the focused one must show a visible outline), press a button
// with the keyboard (BUTTON_TEXT "Enter": Enter on the last checkbox, the
// form's implicit submission), and print the resulting page's heading
// and status lines.
// usage: node press.js URL SCREENSHOT BUTTON_TEXT [LOCALE [LIST...]]
const { chromium } = require('playwright-core');

// Tab until the checkbox for `name` has focus; fail after 40 stops.
async function tabTo(page, selector) {
  for (let i = 0; i < 40; i++) {
    await page.keyboard.press('Tab');
    if (await page.locator(selector).evaluate((el) => el === document.activeElement))
      return;
  }
  throw new Error(`${selector}: not reachable with Tab`);
}

(async () => {
  const [url, shot, button, locale = 'en-US', ...toggles] = process.argv.slice(2);
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update',
      '--disable-sync'],
  });
  try {
    const page = await browser.newPage({ locale });
    const resp = await page.goto(url);
    if (resp.status() !== 200) throw new Error(`GET ${url}: ${resp.status()}`);
    await page.screenshot({ path: shot, fullPage: true });
    for (const name of toggles) {
      const box = `input[name="keep"][value="${name}"]`;
      const before = await page.locator(box).isChecked();
      await tabTo(page, box);
      const outline = await page.locator(box).evaluate(
        (el) => getComputedStyle(el).outlineStyle);
      if (outline === 'none') throw new Error(`${name}: no visible focus`);
      await page.keyboard.press('Space');
      if (await page.locator(box).isChecked() === before)
        throw new Error(`${name}: Space did not toggle it`);
    }
    if (button !== 'Enter')
      await page.getByRole('button', { name: button }).focus();
    await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
    console.log(await page.locator('h1').innerText());
    for (const s of await page.locator('[role="status"]').allInnerTexts())
      console.log(s);
    await page.screenshot({ path: shot.replace('landing', 'done'), fullPage: true });
  } finally {
    await browser.close();
  }
})().catch((e) => { console.error(e.message); process.exit(1); });
