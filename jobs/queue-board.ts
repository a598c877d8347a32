/** bull-board for the queue: the express handler the dashboard mounts at /queues. */
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import type { RequestHandler } from 'express';
import { QUEUE_BOARD_PATH } from '../src/http/create-app.js';
import type { StatcacheQueue } from './queue.js';

/**
 * bull-board's router for `queue`, built for the path createApp mounts it at; read-only (no retry,
 * promote or delete) unless `writable`.
 */
export function createQueueBoard(
  queue: StatcacheQueue,
  options: { writable?: boolean } = {},
): RequestHandler {
  const board = new ExpressAdapter();
  board.setBasePath(QUEUE_BOARD_PATH);
  createBullBoard({
    queues: [new BullMQAdapter(queue, { readOnlyMode: options.writable !== true })],
    serverAdapter: board,
  });
  return board.getRouter() as RequestHandler;
}
