"""The browser demo (``radyar demo --web``): the real bot, worker and hospital listeners over
the loopback sandboxes, and a web page on 127.0.0.1 to be their patients, staff and hospital."""
