// Synthetic DWD RV runs for tests: the simulator's writer (firmware-sim/nowcast/rv-files.ts).
export * from '../../firmware-sim/nowcast/rv-files.ts';
