/**
 * The slice of johnny-five 2.x the agent uses (no @types package is installed; johnny-five ships
 * none). Board forwards pin and I²C calls to its IO plugin. The agent imports the Board module
 * alone: johnny-five's index loads its ~90 component classes, 4 MB of RSS on a 64 MB budget.
 */
declare module 'johnny-five/lib/board.js' {
  import type { EventEmitter } from 'node:events';

  interface BoardOptions {
    io: unknown;
    repl?: boolean;
    debug?: boolean;
    timeout?: number;
  }

  class Board extends EventEmitter {
    constructor(options: BoardOptions);
    readonly isReady: boolean;
    readonly io: unknown;
    pinMode(pin: number | string, mode: number): this;
    digitalRead(pin: number | string, handler: (value: number) => void): this;
    analogRead(pin: number | string, handler: (value: number) => void): this;
    i2cConfig(options: unknown): this;
    i2cReadOnce(address: number, register: number, bytes: number, handler: (data: number[]) => void): this;
    i2cWrite(address: number, register: number, data: number | number[]): this;
  }

  export default Board;
}
