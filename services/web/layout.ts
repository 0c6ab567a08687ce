// The page frame: header with navigation, one stylesheet, scripts as files only (no inline code).
import { allowed } from '../auth/roles.ts';
import { type Html, html } from './html.ts';
import type { I18n } from './i18n.ts';
import { dt } from './i18n-devices.ts';
import { openDataWord } from './i18n-open-data.ts';
import { rulesNav } from './rules-nav.ts';
import type { Session } from './users.ts';

export interface View {
  i: I18n;
  session?: Session;
  /** current path and query, for the language switch */
  url: string;
  /** wall screen: dark, no navigation chrome, reloads itself now and then */
  wall: boolean;
}

export function langSwitch(v: View): string {
  const u = new URL(v.url, 'http://x');
  u.searchParams.set('lang', v.i.lang === 'de' ? 'en' : 'de');
  return u.pathname + u.search;
}

export function layout(v: View, o: { title: string; body: Html; scripts?: string[]; styles?: string[]; page: string }): Html {
  const { i, session } = v;
  const role = session?.user.role;
  return html`<!doctype html>
<html lang="${i.lang}" data-theme="${v.wall ? 'dark' : 'auto'}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${o.title} – ${i.t('app')}</title>
${(o.styles ?? []).map((s) => html`<link rel="stylesheet" href="${s}">`)}
<link rel="stylesheet" href="/assets/app/app.css">
${[...(session ? ['/assets/app/menu.js'] : []), ...(o.scripts ?? [])].map((s) => html`<script src="${s}" defer></script>`)}
</head>
<body class="page-${o.page}${v.wall ? ' wall' : ''}">
<a class="skip" href="#main">${i.t('skip')}</a>
<header class="top">
  <a class="brand" href="/">${i.t('app')}</a>
  ${
    session
      ? html`<button type="button" class="menu-toggle" aria-expanded="false" aria-controls="menu">${i.t('nav_menu')}</button>
  <nav id="menu" aria-label="${i.t('app')}">
    <a class="navlink" href="/">${i.t('nav_situation')}</a>
    ${rulesNav(i, role)}
    <a class="navlink" href="/devices">${dt(i)('nav_devices')}</a>
    ${role && allowed(role, 'audit:read') ? html`<a class="navlink" href="/audit">${i.t('nav_audit')}</a>` : ''}
    ${role && allowed(role, 'tokens:write') ? html`<a class="navlink" href="/admin/users">${i.t('nav_users')}</a>` : ''}
    ${role && allowed(role, 'tokens:write') ? html`<a class="navlink" href="/admin/open-data">${openDataWord(i, 'nav')}</a>` : ''}
    <a class="navlink" href="/account/password">${i.t('nav_password')}</a>
    <a class="navlink" href="${langSwitch(v)}" lang="${i.lang === 'de' ? 'en' : 'de'}">${i.t('nav_lang_other')}</a>
    <span class="who">${session.user.name}${session.user.org ? html` · ${session.user.org}` : ''}</span>
    <form method="post" action="/logout" class="inline"><input type="hidden" name="_csrf" value="${session.csrf}"><button type="submit">${i.t('nav_logout')}</button></form>
  </nav>`
      : html`<nav aria-label="${i.t('app')}"><a class="navlink" href="${langSwitch(v)}" lang="${i.lang === 'de' ? 'en' : 'de'}">${i.t('nav_lang_other')}</a></nav>`
  }
</header>
<main id="main">
${o.body}
</main>
</body>
</html>`;
}

export function message(kind: 'ok' | 'error', text: string | undefined): Html | string {
  return text ? html`<p class="msg msg-${kind}" role="${kind === 'error' ? 'alert' : 'status'}">${text}</p>` : '';
}

export function simplePage(v: View, title: string, text: string, page = 'simple'): Html {
  return layout(v, {
    title,
    page,
    body: html`<section class="narrow"><h1>${title}</h1><p>${text}</p><p><a href="/">${v.i.t('nav_situation')}</a></p></section>`,
  });
}
