import { ContainerModule } from 'inversify';
import { TOKENS } from '../../../application/tokens';
import { SystemClock } from '../../../adapters/outbound/system/system-clock';
import { TimerScheduler } from '../../../adapters/outbound/system/timer-scheduler';

/** The real clock and timers. */
export const systemModule = new ContainerModule(({ bind }) => {
  bind(TOKENS.Clock).to(SystemClock).inSingletonScope();
  bind(TOKENS.Scheduler).to(TimerScheduler).inSingletonScope();
});
