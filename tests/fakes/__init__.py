"""Loopback fakes of the clouds' HTTP APIs, driven through each SDK's real client code."""

#: Connection options for a loopback fake: the clouds' documented API limits (each driver's
#: RATE_DEFAULT) protect a real account, not a fake on 127.0.0.1, and would only make the suites
#: wait. The limiter still runs on every call (1000/s, burst 100 is never reached on loopback);
#: tests of the limiting itself set their own rate_limit/rate_burst.
FAKE_RATE = {"rate_limit": 1000, "rate_burst": 100}
