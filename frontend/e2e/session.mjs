// Shared by the browser checks (live-breaks.mjs, sign-in-audit.mjs): what the page shows
// first (the sign-in page or the workstation) and signing in through the form, as a user
// would. Credentials come from the environment, never from the command line (where `ps`
// would show them).

/** A failure the scripts report as one line (anything else is an unexpected error). */
export class Failure extends Error {}

export const SEL = {
  signIn: '[data-testid="sign-in"]',
  signInForm: '[data-testid="sign-in-form"]',
  username: '[data-testid="sign-in-username"]',
  password: '[data-testid="sign-in-password"]',
  submit: '[data-testid="sign-in-submit"]',
  signInError: '[data-testid="sign-in-error"]',
  account: '[data-testid="account"]',
  signOut: '[data-testid="sign-out"]',
  grid: '[data-testid="break-grid"]',
  boot: '[data-testid="boot"]',
};

/** `{ username, password }` from GREENAI_E2E_<PREFIX>USERNAME / _PASSWORD (either may be missing). */
export function credentials(prefix = '') {
  return {
    username: process.env[`GREENAI_E2E_${prefix}USERNAME`] ?? '',
    password: process.env[`GREENAI_E2E_${prefix}PASSWORD`] ?? '',
  };
}

const firstLine = (s) => String(s ?? '').split('\n')[0];

/**
 * Wait until the app has decided: 'sign-in' (no session), 'signed-in' (the workstation),
 * or fail when it cannot tell who the user is (the BFF is unreachable or broken).
 */
export async function landing(page, timeout) {
  try {
    await page.waitForSelector(`${SEL.signInForm}, ${SEL.account}, ${SEL.boot} [role="alert"]`, { timeout });
  } catch {
    throw new Failure(`timeout: the app showed neither the sign-in page nor the workstation (${page.url()})`);
  }
  if (await page.$(SEL.account)) return 'signed-in';
  if (await page.$(SEL.signInForm)) return 'sign-in';
  const text = await page.textContent(`${SEL.boot} [role="alert"]`).catch(() => '');
  throw new Failure(`the app cannot check the session: ${firstLine(text).trim()}`);
}

/**
 * Sign in through the form and wait for the workstation. Returns who the top bar says is
 * signed in: `{ username, roles }`. A refusal fails with the page's own error line.
 */
export async function signIn(page, { username, password, timeout }) {
  if (!username || !password) throw new Failure('no credentials to sign in with');
  try {
    await page.waitForSelector(SEL.signInForm, { timeout });
  } catch {
    throw new Failure('timeout: the sign-in form never appeared');
  }
  await page.fill(SEL.username, username);
  await page.fill(SEL.password, password);
  await page.click(SEL.submit);
  // Either the workstation (its top bar names the user) or an error line.
  const outcome = await page
    .waitForFunction(
      ({ account, error }) => {
        if (document.querySelector(account)) return 'ok';
        const text = document.querySelector(error)?.textContent?.trim();
        return text ? `error:${text}` : false;
      },
      { account: SEL.account, error: SEL.signInError },
      { timeout, polling: 100 },
    )
    .then((h) => h.jsonValue())
    .catch(() => 'timeout');
  if (outcome === 'timeout') throw new Failure(`timeout: signing in as ${username} showed neither the workstation nor an error`);
  if (outcome !== 'ok') throw new Failure(`sign-in as ${username} refused: ${outcome.slice(6)}`);
  const who = await page.$eval(SEL.account, (el) => ({ username: el.dataset.username ?? '', roles: el.dataset.roles ?? '' }));
  if (who.username !== username) throw new Failure(`signed in as ${username}, but the top bar says ${who.username || 'nobody'}`);
  return who;
}

/** Sign out from the top bar and wait for the sign-in page. */
export async function signOut(page, timeout) {
  await page.click(SEL.signOut);
  try {
    await page.waitForSelector(SEL.signInForm, { timeout });
  } catch {
    throw new Failure('timeout: signing out did not bring the sign-in page back');
  }
}

/** The HTTP status of a GET of `path` from the page (its cookies, its origin). */
export function statusFromPage(page, path) {
  return page.evaluate(async (p) => (await fetch(p, { headers: { Accept: 'application/json' } })).status, path);
}
