// press.js - open the landing page in Debian's Chromium, save a screenshot,
// press a button, and print the resulting page's heading.
// usage: node press.js URL SCREENSHOT BUTTON_TEXT
const { chromium } = require('playwright-core');

(async () => {
  const [url, shot, button] = process.argv.slice(2);
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update',
      '--disable-sync'],
  });
  try {
    const page = await browser.newPage({ locale: 'en-US' });
    const resp = await page.goto(url);
    if (resp.status() !== 200) throw new Error(`GET ${url}: ${resp.status()}`);
    await page.screenshot({ path: shot, fullPage: true });
    await page.getByRole('button', { name: button }).click();
    await page.waitForLoadState();
    console.log(await page.locator('h1').innerText());
  } finally {
    await browser.close();
  }
})().catch((e) => { console.error(e.message); process.exit(1); });
