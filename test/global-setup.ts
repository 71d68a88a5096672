import { execFileSync } from 'node:child_process';

/** Process tests run the built `keygate` command, exactly as users do: build it once before any test file. */
export default function setup(): void {
  execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
}
