/**
 * A unit's one-time claim code, as printed on its label and typed by a technician: 12 symbols of
 * Crockford's base32 without I, L, O and U (60 bits), shown as XXXX-XXXX-XXXX. The letters left
 * out are the ones misread off a label or over a bad phone line (I/L vs 1, O vs 0, U vs V).
 */
export const CLAIM_CODE_ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
export const CLAIM_CODE_LENGTH = 12;

const SYMBOLS = new RegExp(`^[${CLAIM_CODE_ALPHABET}]{${CLAIM_CODE_LENGTH}}$`);

/** The code's 12 symbols from what was typed (any case, grouped with spaces or dashes); null when it cannot be a code. */
export function claimCodeSymbols(typed: string): string | null {
  const s = typed.toUpperCase().replace(/[\s-]/g, '');
  return SYMBOLS.test(s) ? s : null;
}

/** 12 symbols as the label shows them: XXXX-XXXX-XXXX. */
export function formatClaimCode(symbols: string): string {
  return `${symbols.slice(0, 4)}-${symbols.slice(4, 8)}-${symbols.slice(8)}`;
}
