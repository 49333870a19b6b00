/* car.c: not written yet */
