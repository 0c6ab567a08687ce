// A console session cookie got the way a person gets one: the login form (its CSRF token and pre-login cookie),
// then the form posted with the contract's field names. For tests that read console pages over plain HTTP.
export async function consoleSession(base: string, username: string, password: string): Promise<string> {
  const form = await fetch(`${base}/login`);
  const pre = /rw_login=([^;]*)/.exec(form.headers.getSetCookie().join('\n'))?.[1] ?? '';
  const csrf = /name="_csrf" value="([^"]+)"/.exec(await form.text())?.[1] ?? '';
  const r = await fetch(`${base}/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { cookie: `rw_login=${pre}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ _csrf: csrf, username, password, next: '/' }).toString(),
  });
  const session = /rw_session=([^;]*)/.exec(r.headers.getSetCookie().join('\n'))?.[1];
  if (r.status !== 303 || !session) throw new Error(`console login as ${username} failed: ${r.status}`);
  return `rw_session=${session}`;
}
