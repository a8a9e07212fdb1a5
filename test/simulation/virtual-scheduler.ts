/** The simulation's clock is the tests' one virtual clock; this path stays for the replication simulation's imports. */
export { SimulatedScheduler, VirtualClock } from '../support/virtual-clock';
