"""SLA clocks on business calendars."""
