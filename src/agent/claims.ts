import * as chrono from 'chrono-node';
import nlp from 'compromise';

/** A sentence someone could check against a source, and why it is checkable. */
export interface CheckableClaim {
  text: string;
  source: string;
  reasons: string[];
}

export interface TextStats {
  characters: number;
  words: number;
  sentences: number;
}

/** A date the text mentions, with the last calendar day it can mean ('March 2021' → 2021-03-31). */
export interface MentionedDate {
  text: string;
  lastDay: string;
}

export const MAX_CLAIMS_PER_SOURCE = 25;
/** Text the claim extractor reads per source: its cost grows with the text, and 25 claims come early. */
export const MAX_CLAIM_SCAN_CHARS = 20_000;
const MAX_CLAIM_CHARS = 400;

/** compromise's base view type (eq() returns it, not the full three-level view). */
type Sentence = Pick<ReturnType<typeof nlp>, 'has' | 'match' | 'text'>;
const tagged = (tag: string) => (sentence: Sentence) => sentence.has(tag);

const CHECKABLE: { test: (sentence: Sentence) => boolean; reason: string }[] = [
  { test: tagged('#Date'), reason: 'a date' },
  { test: tagged('#Percent'), reason: 'a percentage' },
  { test: tagged('#Money'), reason: 'an amount of money' },
  // A number that is part of a date, a percentage or an amount counts as that only.
  { test: (sentence) => sentence.match('#Value').not('(#Date|#Percent|#Money)').found, reason: 'a number or quantity' },
  { test: tagged('#Person'), reason: 'a named person' },
  { test: tagged('#Place'), reason: 'a named place' },
  { test: tagged('#Organization'), reason: 'a named organisation' },
];

/** Sentences that state something checkable: numbers, dates, quantities, named people, places, organisations. */
export function findCheckableClaims(text: string, source: string, limit: number = MAX_CLAIMS_PER_SOURCE): CheckableClaim[] {
  const claims: CheckableClaim[] = [];
  const sentences = nlp(text.slice(0, MAX_CLAIM_SCAN_CHARS)).sentences();
  for (let i = 0; i < sentences.length && claims.length < limit; i++) {
    const sentence = sentences.eq(i);
    const reasons = CHECKABLE.filter(({ test }) => test(sentence)).map(({ reason }) => reason);
    const claimText = sentence.text().trim().replace(/\s+/g, ' ');
    if (reasons.length > 0) claims.push({ text: claimText.slice(0, MAX_CLAIM_CHARS), source, reasons });
  }
  return claims;
}

export function textStats(text: string): TextStats {
  return {
    characters: text.length,
    words: text.match(/\S+/g)?.length ?? 0,
    sentences: nlp(text).sentences().length,
  };
}

const day = (year: number, month: number, date: number) => new Date(Date.UTC(year, month - 1, date)).toISOString().slice(0, 10);

/** Dates with a certain year, taken as late as their precision allows so a comparison never over-flags. */
export function mentionedDates(text: string): MentionedDate[] {
  return chrono
    .parse(text, new Date(), { forwardDate: false })
    .filter((result) => result.start.isCertain('year'))
    .map((result) => {
      const when = result.end ?? result.start;
      const year = when.get('year')!;
      if (!when.isCertain('month')) return { text: result.text, lastDay: day(year, 12, 31) };
      const month = when.get('month')!;
      // Day 0 of the next month is the last day of this one.
      return { text: result.text, lastDay: when.isCertain('day') ? day(year, month, when.get('day')!) : day(year, month + 1, 0) };
    });
}
