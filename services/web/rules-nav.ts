// Navigation links of the rules, routes and silences pages: only for roles that may change them.
import type { ApiRole } from '../auth/roles.ts';
import { allowed } from '../auth/roles.ts';
import { type Html, html } from './html.ts';
import { rt } from './i18n/rules.ts';
import type { I18n } from './i18n.ts';

export function rulesNav(i: I18n, role: ApiRole | undefined): Html | string {
  if (!role || !allowed(role, 'rules:write')) return '';
  const w = rt(i);
  return html`<a class="navlink" href="/rules">${w('nav_rules')}</a>
    <a class="navlink" href="/routes">${w('nav_routes')}</a>
    <a class="navlink" href="/silences">${w('nav_silences')}</a>
    <a class="navlink" href="/catchments">${i.lang === 'en' ? 'Catchments' : 'Einzugsgebiete'}</a>`;
}
