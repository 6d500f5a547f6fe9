import { t } from './i18n.ts';

/**
 * Asks before a destructive action, in the page's language and with big buttons (a phone on a
 * hillside, gloves): resolves true only on an explicit yes.
 */
export async function confirmAction(message: string): Promise<boolean> {
  return (await ask(message, null)) !== null;
}

/**
 * The same question with a field for why (optional, kept on the audit log): the reason typed
 * ('' for none) on yes, null on no.
 */
export function confirmWithReason(message: string, label: string): Promise<string | null> {
  return ask(message, label);
}

function ask(message: string, reasonLabel: string | null): Promise<string | null> {
  const dialog = document.createElement('dialog');
  dialog.className = 'confirm';
  const p = document.createElement('p');
  p.textContent = message;
  dialog.append(p);
  const reason = document.createElement('input');
  if (reasonLabel !== null) {
    const label = document.createElement('label');
    label.className = 'reason';
    reason.name = 'reason';
    reason.maxLength = 300;
    label.append(reasonLabel, reason);
    dialog.append(label);
  }
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
  dialog.append(row);
  document.body.append(dialog);
  return new Promise((resolve) => {
    const done = (ok: boolean) => {
      dialog.close();
      dialog.remove();
      resolve(ok ? reason.value.trim() : null);
    };
    no.addEventListener('click', () => done(false));
    yes.addEventListener('click', () => done(true));
    dialog.addEventListener('cancel', () => done(false));
    dialog.showModal();
  });
}
