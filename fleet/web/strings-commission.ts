/**
 * Labels of the daylight re-check on the unit's card and page (a charge check the night run left
 * pending, judged by the unit at first light), in English and Simplified Chinese (spread into strings.ts).
 */
export const COMMISSION_EN = {
  'comm.judged': '☀ {checks} judged in daylight {at}',
  'comm.judgedAt': '☀ judged in daylight {at}',
};

export const COMMISSION_ZH: Record<keyof typeof COMMISSION_EN, string> = {
  'comm.judged': '☀ {checks}已于日间 {at} 复检',
  'comm.judgedAt': '☀ 日间 {at} 复检',
};
