/* multiaddr.c: not written yet */
