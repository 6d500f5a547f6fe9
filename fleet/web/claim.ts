import { explain } from './actions.ts';
import type { Api } from './api.ts';
import { t } from './i18n.ts';
import type { Session } from './model.ts';

interface Issued {
  unitId: string;
  username: string;
  password: string;
}

/**
 * Claiming a unit on site from a phone: the code on the unit's label and the site (typed, or the
 * phone's own position), whose grid cell the fleet's grid gives; the unit's MQTT credentials are
 * shown once.
 */
export function mountClaim(root: HTMLElement, api: Api, session: () => Session, onClaimed: (unitId: string) => void): void {
  root.innerHTML = `<form class="claim" autocomplete="off">
  <a class="back" href="#/">${t('nav.back')}</a>
  <h2>${t('claim.title')}</h2>
  <p class="dim">${t('claim.help')}</p>
  <label>${t('claim.code')}<input name="code" required minlength="12" maxlength="20" inputmode="text" autocapitalize="characters" placeholder="XXXX-XXXX-XXXX"></label>
  <label>${t('claim.siteName')}<input name="siteName" maxlength="80"></label>
  <div class="pair"><label>${t('claim.lat')}<input name="lat" inputmode="decimal"></label><label>${t('claim.lon')}<input name="lon" inputmode="decimal"></label></div>
  <button type="button" class="locate">${t('claim.locate')}</button>
  <button type="submit" class="primary">${t('claim.submit')}</button>
  <pre class="claim-result" aria-live="polite"></pre>
</form>`;
  const form = root.querySelector('form') as HTMLFormElement;
  const out = root.querySelector('.claim-result') as HTMLElement;
  const input = (name: string) => form.elements.namedItem(name) as HTMLInputElement;
  root.querySelector('.locate')?.addEventListener('click', () => {
    navigator.geolocation?.getCurrentPosition(
      (p) => {
        input('lat').value = p.coords.latitude.toFixed(6);
        input('lon').value = p.coords.longitude.toFixed(6);
      },
      () => {
        out.textContent = t('claim.noPosition');
      },
    );
  });
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const lat = Number(input('lat').value);
    const lon = Number(input('lon').value);
    const hasSite = input('lat').value !== '' && input('lon').value !== '' && Number.isFinite(lat) && Number.isFinite(lon);
    const body = {
      code: input('code').value.trim(),
      ...(hasSite ? { site: { lat, lon, name: input('siteName').value.trim() || null } } : {}),
    };
    out.className = 'claim-result busy';
    out.textContent = t('claim.sending');
    api.post<Issued>('/api/claim', body).then(
      (r) => {
        out.className = 'claim-result ok';
        out.textContent = t('claim.done', { id: r.unitId, username: r.username, password: r.password });
        onClaimed(r.unitId);
      },
      (err: unknown) => {
        out.className = 'claim-result refused';
        out.textContent = explain(err, 'claim', session());
      },
    );
  });
}
