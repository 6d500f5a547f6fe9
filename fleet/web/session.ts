import { ApiError, createApi } from './api.ts';
import { t } from './i18n.ts';
import type { Session } from './model.ts';

const STORE_KEY = 'shouwang.token';

/**
 * Sign-in with the fleet's bearer tokens. A token comes typed into the form, or once in the
 * address as /#token=… (the link `./dev start` prints), and is kept in this browser until sign-out.
 * The fleet says who the token is (GET /api/session); a refused token is dropped with a message.
 */
export function storedToken(): string | null {
  const fromHash = new URLSearchParams(location.hash.slice(1)).get('token');
  if (fromHash) {
    localStorage.setItem(STORE_KEY, fromHash);
    history.replaceState(null, '', `${location.pathname}#/`);
  }
  return localStorage.getItem(STORE_KEY);
}

export function signOut(): void {
  localStorage.removeItem(STORE_KEY);
}

/** The caller's session with this token (null: none), or why not. */
export async function check(
  token: string | null,
): Promise<{ ok: true; session: Session } | { ok: false; reason: 'refused' | 'required' | 'unreachable' }> {
  try {
    return { ok: true, session: await createApi(() => token).get<Session>('/api/session') };
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) return { ok: false, reason: token ? 'refused' : 'required' };
    return { ok: false, reason: 'unreachable' };
  }
}

/** Shows the sign-in screen until a token the fleet accepts is entered; resolves with its session. */
export function signIn(
  root: HTMLElement,
  reason: 'refused' | 'required' | 'unreachable' | 'signed-out',
): Promise<{ token: string; session: Session }> {
  root.hidden = false;
  root.innerHTML = `<form class="signin" autocomplete="off">
  <h2>${t('signin.title')}</h2>
  <p class="signin-message ${reason === 'refused' ? 'refused' : ''}" aria-live="polite">${t(`signin.${reason}`)}</p>
  <label>${t('signin.token')}<input name="token" type="password" required autocomplete="current-password" spellcheck="false"></label>
  <button type="submit" class="primary">${t('signin.submit')}</button>
  <p class="dim">${t('signin.help')}</p>
</form>`;
  const form = root.querySelector('form') as HTMLFormElement;
  const message = root.querySelector('.signin-message') as HTMLElement;
  const input = form.elements.namedItem('token') as HTMLInputElement;
  input.focus();
  return new Promise((resolve) => {
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      const token = input.value.trim();
      void check(token).then((r) => {
        if (r.ok) {
          localStorage.setItem(STORE_KEY, token);
          root.hidden = true;
          root.replaceChildren();
          resolve({ token, session: r.session });
          return;
        }
        message.className = 'signin-message refused';
        message.textContent = t(`signin.${r.reason}`);
        input.select();
      });
    });
  });
}
