// seek-bzip ships no types; the one function used here. [docs/dwd.md Radar nowcast]
declare module 'seek-bzip' {
  const Bunzip: { decode(input: Buffer, output?: Buffer): Buffer };
  export default Bunzip;
}
