"""What several test modules share: builders, estates, the live loop. Test modules import from here, never from
each other."""
