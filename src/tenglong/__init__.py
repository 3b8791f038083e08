"""tenglong: 临政发〔2022〕22号 as executable, clause-cited rules, and the 亩均论英雄 evaluation."""

__version__ = "0.1.0"
