"""Events (一网统管): one record for every problem and appeal, whatever the channel, moving
through one closed loop (研交办督结)."""
