import { t } from './i18n.ts';

/**
 * Asks before a destructive action, in the page's language and with big buttons (a phone on a
 * hillside, gloves): resolves true only on an explicit yes.
 */
export function confirmAction(message: string): Promise<boolean> {
  const dialog = document.createElement('dialog');
  dialog.className = 'confirm';
  const p = document.createElement('p');
  p.textContent = message;
  const no = document.createElement('button');
  no.type = 'button';
  no.textContent = t('confirm.cancel');
  no.value = 'no';
  const yes = document.createElement('button');
  yes.type = 'button';
  yes.className = 'danger';
  yes.textContent = t('confirm.yes');
  const row = document.createElement('div');
  row.className = 'buttons';
  row.append(no, yes);
  dialog.append(p, row);
  document.body.append(dialog);
  return new Promise((resolve) => {
    const done = (ok: boolean) => {
      dialog.close();
      dialog.remove();
      resolve(ok);
    };
    no.addEventListener('click', () => done(false));
    yes.addEventListener('click', () => done(true));
    dialog.addEventListener('cancel', () => done(false));
    dialog.showModal();
  });
}
