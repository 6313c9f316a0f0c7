// A plain RFC 6298 §2 estimator, written straight from the RFC text, to check src/rtt.ts against.
export class ReferenceRtt {
  srtt: number | undefined;
  rttvar = 0;
  rto: number;

  constructor(
    private readonly init: { initialRto: number; minRto: number; maxRto: number; g: number },
  ) {
    this.rto = Math.min(Math.max(init.initialRto, init.minRto), init.maxRto);
  }

  sample(r: number): void {
    if (this.srtt === undefined) {
      // (2.2) first measurement R
      this.srtt = r;
      this.rttvar = r / 2;
    } else {
      // (2.3) RTTVAR first, with the old SRTT
      this.rttvar = (3 / 4) * this.rttvar + (1 / 4) * Math.abs(this.srtt - r);
      this.srtt = (7 / 8) * this.srtt + (1 / 8) * r;
    }
    // (2.2)/(2.3) RTO, then (2.4)/(2.5) clamps
    const rto = this.srtt + Math.max(this.init.g, 4 * this.rttvar);
    this.rto = Math.min(Math.max(rto, this.init.minRto), this.init.maxRto);
  }

  expire(): void {
    // (5.5) back off the timer
    this.rto = Math.min(this.rto * 2, this.init.maxRto);
  }
}
