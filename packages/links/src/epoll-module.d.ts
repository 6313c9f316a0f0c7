// Types for the `epoll` package (fivdi/epoll), which ships none. Only what tun-device.ts uses.
declare module 'epoll' {
  export class Epoll {
    static readonly EPOLLIN: number;
    static readonly EPOLLOUT: number;
    static readonly EPOLLERR: number;
    static readonly EPOLLHUP: number;
    static readonly EPOLLET: number;
    constructor(callback: (error: Error | null, fd: number, events: number) => void);
    add(fd: number, events: number): this;
    modify(fd: number, events: number): this;
    remove(fd: number): this;
    close(): void;
  }
}
