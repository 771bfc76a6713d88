/**
 * Vitest types its asymmetric matchers as `any` (vitest's AsymmetricMatchersContaining), which
 * would make every object literal holding one untyped. These return them as `unknown`: they fit
 * anywhere an expected value goes and keep the surrounding expectation typed.
 */
import { expect } from 'vitest';

export const stringContaining = (text: string): unknown => expect.stringContaining(text);
export const stringMatching = (pattern: RegExp): unknown => expect.stringMatching(pattern);
