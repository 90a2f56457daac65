// Number and date formatting in the page language and the province's time zone, shared by components.
//
//   import { formatNumber, formatTime } from "/static/js/components/format.js";

import { lang } from "../shell.js";

export const PROVINCE_TIMEZONE = "Asia/Ho_Chi_Minh";
const LOCALE = lang === "en" ? "en-GB" : "vi-VN";
const numberFormats = new Map();

/** Format a number with the page's separators (1.234,5 in Vietnamese); "—" when missing. */
export function formatNumber(value, digits = null) {
  if (value === null || value === undefined || Number.isNaN(Number(value))) {
    return "—";
  }
  const number = Number(value);
  const fraction = digits ?? (Math.abs(number) >= 100 || Number.isInteger(number) ? 0 : 1);
  if (!numberFormats.has(fraction)) {
    numberFormats.set(fraction, new Intl.NumberFormat(LOCALE, { maximumFractionDigits: fraction, minimumFractionDigits: 0 }));
  }
  return numberFormats.get(fraction).format(number);
}

const timeFormat = new Intl.DateTimeFormat(LOCALE, { timeZone: PROVINCE_TIMEZONE, hour: "2-digit", minute: "2-digit", hour12: false });
const dateTimeFormat = new Intl.DateTimeFormat(LOCALE, {
  timeZone: PROVINCE_TIMEZONE,
  day: "2-digit",
  month: "2-digit",
  hour: "2-digit",
  minute: "2-digit",
  hour12: false,
});
const dayFormat = new Intl.DateTimeFormat(LOCALE, { timeZone: PROVINCE_TIMEZONE, day: "2-digit", month: "2-digit" });

/** Format a moment as HH:MM (today) or dd/mm HH:MM in the province's time zone. */
export function formatTime(value) {
  const date = value instanceof Date ? value : new Date(value);
  if (Number.isNaN(date.getTime())) {
    return "";
  }
  const sameDay = dayFormat.format(date) === dayFormat.format(new Date());
  return sameDay ? timeFormat.format(date) : dateTimeFormat.format(date);
}

/** Format Unix seconds as a chart axis label: hours for hourly buckets, dd/mm for daily ones. */
export function formatBucket(seconds, bucketSeconds) {
  const date = new Date(seconds * 1000);
  return bucketSeconds < 86400 ? timeFormat.format(date) : dayFormat.format(date);
}
