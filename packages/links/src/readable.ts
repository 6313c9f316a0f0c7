// eslint-disable-next-line @typescript-eslint/triple-slash-reference -- ambient types for `epoll` (it ships none)
/// <reference path="./epoll-module.d.ts" />
/**
 * Readiness of a non-blocking fd (a TUN device, a batch socket) without polling, for the
 * drain loops of tun-device.ts and batch-udp.ts.
 *
 *   loop   (the batch_io addon built) a uv_poll_t on Node's own event loop: the fd sits in
 *          the loop's epoll set and the callback runs in the iteration that saw it readable
 *   epoll  (fallback) the `epoll` package: epoll_wait on a watcher thread that hands ONE event
 *          at a time to the loop through uv_async_send and a semaphore: two thread switches
 *          per readiness, measured as most of the bond's added RTT
 *
 * Both are level-triggered: whatever a callback leaves unread wakes it again next iteration.
 * The callback gets `hangup: true` when the fd reported an error or hang-up (a deleted TUN
 * interface): read once more to learn why, then close; the loop watcher stops by itself then.
 */
import { createRequire } from 'node:module';
import type { Epoll as EpollClass } from 'epoll';
import { batchIoAvailable, loadBatchIo } from './batch-native.js';

const require = createRequire(import.meta.url);

/** Called when the fd is readable (or failed: `hangup`). */
export type ReadableCallback = (hangup: boolean) => void;

/** A registration made by {@link watchReadable}. */
export interface ReadableWatch {
  /** 'loop' (uv_poll on the event loop) or 'epoll' (watcher thread). */
  readonly via: 'loop' | 'epoll';
  /** Stops the callbacks (before the fd is closed and its number reused). Safe twice. */
  close(): void;
}

const EPOLL_ERR_HUP = 0x008 | 0x010; // EPOLLERR | EPOLLHUP
const UV_DISCONNECT = 4;

/**
 * Calls `callback` whenever `fd` is readable, until close().
 *
 * @example
 * const watch = watchReadable(fd, (hangup) => drain(hangup));
 * watch.close();
 */
export function watchReadable(fd: number, callback: ReadableCallback, via: 'loop' | 'epoll' = batchIoAvailable() ? 'loop' : 'epoll'): ReadableWatch {
  if (via === 'loop') {
    const native = loadBatchIo();
    const handle = native.watch(fd, (status: number, events: number) => callback(status < 0 || (events & UV_DISCONNECT) !== 0));
    let closed = false;
    return {
      via,
      close(): void {
        if (closed) return;
        closed = true;
        native.unwatch(handle);
      },
    };
  }
  const { Epoll } = require('epoll') as { Epoll: typeof EpollClass };
  let poller: EpollClass | undefined = new Epoll((error, _fd, events) => callback(error !== null || (events & EPOLL_ERR_HUP) !== 0));
  poller.add(fd, Epoll.EPOLLIN);
  return {
    via,
    close(): void {
      poller?.close();
      poller = undefined;
    },
  };
}
