"""The legal frame: the Othman § 189 factors (i)-(xi) and SIAC's conditions in BB, closely paraphrased.

The texts were checked against the sources named here (see ``SOURCES``); no paragraph number is given
for BB because none could be verified from a retrieved copy. Each factor carries what the case record
can say about it (filled in by ``content.legal_frame``) and what it cannot show.
"""

from __future__ import annotations

OTHMAN_CITATION = "Othman (Abu Qatada) v. the United Kingdom, no. 8139/09, ECtHR, judgment of 17 January 2012, § 189"
BB_CITATION = "BB v Secretary of State for the Home Department [2006] UKSIAC 39/2005 (5 December 2006)"

SOURCES = {
    "othman": [
        "https://www.yumpu.com/en/document/view/30359974/universal-migrationhrlaw-pg-no-6-publications-practitionersguide-2014-eng/140",
        "https://www.mondaq.com/uk/human-rights/1159234/extradition-and-assurances-recent-developments",
        OTHMAN_CITATION,
    ],
    "bb": ["https://www.bailii.org/uk/cases/SIAC/2006/39_2005.html", BB_CITATION],
}
SOURCE_NOTE = {
    "othman": ("Factors (iv) to (xi) are paraphrased from the Court's words as quoted in the International "
               "Commission of Jurists' Practitioners Guide No. 6, Migration and International Human Rights Law "
               "(2014), which omits the Court's case references; factors (i) to (iii) from a solicitors' summary "
               "(Bindmans LLP, published on Mondaq). The judgment itself was not retrieved for this report: check "
               "the wording against the official copy (HUDOC) before quoting it."),
    "bb": ("Paraphrased from BAILII's copy of the open judgment, in the part headed 'Open Decision on Safety on "
           "Return'. The paragraph number could not be verified from a retrieved copy and is not given; check it "
           "against the numbered BAILII text before citing one."),
}

# (numeral, the factor in close paraphrase, what the record can speak to, what it cannot show)
OTHMAN_FACTORS = (
    ("i", "whether the terms of the assurances have been disclosed to the Court", None,
     "The record holds past assurances, not the one before the court; whether its terms are disclosed is a "
     "matter for the court."),
    ("ii", "whether the assurances are specific, or general and vague", "formality",
     "How specific the assurance in this case is can only be read from its own text."),
    ("iii", "who gave the assurances, and whether that person or body can bind the receiving State", "formality",
     "Whether the official who gave this assurance can bind the state is a question of the receiving state's law "
     "and practice that the record does not code."),
    ("iv", "where the central government gave the assurances, whether local authorities can be expected to "
           "abide by them", None,
     "The record does not code which authority held the person or whether local officials followed central "
     "instructions."),
    ("v", "whether the assurances concern treatment that is legal or illegal in the receiving State", None,
     "The legality of the treatment in the receiving state is a legal question outside the record."),
    ("vi", "whether they have been given by a Contracting State", "contracting",
     "Nothing further: this is a matter of treaty status."),
    ("vii", "the length and strength of bilateral relations between the sending and receiving States, including "
            "the receiving State's record in abiding by similar assurances", "record",
     "The record shows kept and broken promises that reached the public record; it does not measure the strength "
     "of bilateral relations, and it holds only cases someone wrote about."),
    ("viii", "whether compliance with the assurances can be objectively verified through diplomatic or other "
             "monitoring mechanisms, including unfettered access to the applicant's lawyers", "monitoring",
     "Whether monitoring, and lawyers' access, will exist in this case depends on the arrangements made for it."),
    ("ix", "whether there is an effective system of protection against torture in the receiving State, including "
           "whether it is willing to cooperate with international monitoring mechanisms (including international "
           "human-rights NGOs), and whether it is willing to investigate allegations of torture and to punish "
           "those responsible", "pts",
     "The Political Terror Scale is a coarse yearly score; it does not measure cooperation with monitoring bodies "
     "or the investigation and punishment of torture."),
    ("x", "whether the applicant has previously been ill-treated in the receiving State", None,
     "The person's own history is evidence in the individual case, not in the record."),
    ("xi", "whether the reliability of the assurances has been examined by the domestic courts of the sending "
           "(Contracting) State", "courts",
     "Whether the courts have examined the assurance in this case is for the court to state."),
)

BB_CONDITIONS = (
    ("i", "the terms of the assurances must be such that, if they are fulfilled, the person returned will not be "
          "subjected to treatment contrary to Article 3 of the Convention", None,
     "Whether the terms of this assurance would suffice is for the court, on its text."),
    ("ii", "the assurances must be given in good faith", "record",
     "Good faith is not coded; the record only shows how similar promises fared."),
    ("iii", "there must be a sound, objective basis for believing that the assurances will be fulfilled", "answer",
     "The estimate describes similar past promises that reached the public record; it does not know this person, "
     "prison or officials."),
    ("iv", "fulfilment of the assurances must be capable of being verified", "monitoring",
     "Whether this assurance will in fact be verified depends on the arrangements made for it."),
)

# Parties to the European Convention on Human Rights (the 46 member states of the Council of Europe);
# Russia ceased to be a party on 16 September 2022.
ECHR_PARTIES = frozenset(
    "ALB AND ARM AUT AZE BEL BIH BGR HRV CYP CZE DNK EST FIN FRA GEO DEU GRC HUN ISL IRL ITA LVA LIE LTU LUX MLT "
    "MDA MCO MNE NLD MKD NOR POL PRT ROU SMR SRB SVK SVN ESP SWE CHE TUR UKR GBR".split())
FORMER_PARTIES = {"RUS": "ceased to be a party to the Convention on 16 September 2022"}
