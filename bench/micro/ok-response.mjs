// Building one `zwsx.rspok` reply around a small response.
import { built } from './harness.mjs';

const { okResponse } = await built('protocol/index.js');
const DATA = { n: 123, text: 'hello' };

export const name = 'okResponse (small response)';
export const run = () => okResponse('i000123', DATA);
