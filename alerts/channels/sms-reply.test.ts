import { describe, expect, it } from 'vitest';
import { parseReply } from './sms-reply.ts';

describe('parseReply [issue 16]', () => {
  it.each([
    ['OK 17', { kind: 'ack', alarmId: '17' }],
    ['Q 17', { kind: 'ack', alarmId: '17' }],
    ['ok17', { kind: 'ack', alarmId: '17' }],
    [' q #017. ', { kind: 'ack', alarmId: '17' }],
    ['OK', { kind: 'ack' }],
    ['ok!', { kind: 'ack' }],
    ['OK 17 18', { kind: 'unknown' }],
    ['Okay', { kind: 'unknown' }],
    ['Bin unterwegs', { kind: 'unknown' }],
    ['', { kind: 'unknown' }],
    ['NOK 17', { kind: 'unknown' }],
  ] as const)('%j → %j', (text, want) => {
    expect(parseReply(text)).toEqual(want);
  });
});
