import { encodeEventId, EventIdError, MAX_ID_QUEUES, NO_QUEUE_ID, parseEventId, type QueuePosition } from './event-id';

const pos = (seq: number, at: number, epoch: string, paused = false): QueuePosition => ({ seq, at, epoch, paused });

describe('SSE ids: the stream position in every queue', () => {
  it('encodes queue=<seq>.<at>.<epoch>[.p] pairs in queue-name order, URL-encoded', () => {
    const id = encodeEventId(
      new Map([
        ['sms', pos(40, 1796351882001, '1796351880000007', true)],
        ['emails', pos(12, 1796351881812, '1796351881812120')],
        ['a:b', pos(0, 0, '')],
      ]),
    );
    expect(id).toBe('a%3Ab=0.0.&emails=12.1796351881812.1796351881812120&sms=40.1796351882001.1796351880000007.p');
  });

  it('parses what it encodes', () => {
    const position = new Map([
      ['Q.1:high_prio-x', pos(987654321, 1796351881812, '1796351881812120')],
      ['default', pos(3, 1796351881000, '', true)],
    ]);
    expect(parseEventId(encodeEventId(position))).toEqual(position);
  });

  it('no queue: a non-empty id, which parses (like an empty one) to no queue', () => {
    expect(encodeEventId(new Map())).toBe(NO_QUEUE_ID);
    expect(parseEventId(NO_QUEUE_ID)).toEqual(new Map());
    expect(parseEventId('')).toEqual(new Map());
  });

  it.each([
    ['emails=12', /queue emails's position "12" is not <seq>\.<at>\.<epoch>\[\.p\]/],
    ['emails=12.x.1', /is not <seq>/],
    ['emails=-1.0.', /characters such an id never has|is not <seq>/],
    ['emails=1.2.3.q', /is not <seq>/],
    ['emails=1234567890123456.0.', /is not <seq>/], // beyond 2^53: not a seq of ours
    ['=1.2.3', /is not queue=<seq>/],
    ['emails', /is not queue=<seq>/],
    ['bad%20name=1.2.3', /is not a queue name/],
    ['%E0%A4%A=1.2.3', /is not a queue name/],
    ['a=1.2.3&a=4.5.6', /names queue a twice/],
    ['emails=1.2.3\nsms=1.2.3', /characters such an id never has/],
    ['e"mails=1.2.3', /characters such an id never has/],
  ])('refuses %j', (text, message) => {
    expect(() => parseEventId(text)).toThrow(EventIdError);
    expect(() => parseEventId(text)).toThrow(message);
  });

  it(`refuses an id of more than ${MAX_ID_QUEUES} queues`, () => {
    const text = Array.from({ length: MAX_ID_QUEUES + 1 }, (_, i) => `q${i}=1.2.3`).join('&');
    expect(() => parseEventId(text)).toThrow(/more than 10000 queues/);
  });
});
