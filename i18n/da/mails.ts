/** De mails, gatewayen sender, på modtagerens sprog (issue 16); tider står allerede på dansk i organisationens tidszone. */
import type { Translation } from '../catalogue.js';
import type { mails as en } from '../en/mails.js';

export const mails: Translation<typeof en> = {
  'mail.hello': 'Kære {name}',
  'mail.helloNobody': 'Goddag',
  'mail.unexpected': 'Hvis du ikke ventede dette, så kontakt helpdesken med det samme.',

  'mail.code.subject.activate': 'Din aktiveringskode til sikkerhedsnøglen',
  'mail.code.subject.reactivate': 'Din genaktiveringskode til sikkerhedsnøglen',
  'mail.code.activate': 'Din sikkerhedsnøgle "{label}" er registreret. Du aktiverer den ved at åbne aktiveringssiden, røre ved nøglen og indtaste denne kode:',
  'mail.code.reactivate': 'En genaktivering af din sikkerhedsnøgle "{label}" er sat i gang. Du genaktiverer den ved at åbne aktiveringssiden, røre ved nøglen og indtaste denne kode:',
  'mail.code.expires':
    'Koden kan bruges én gang og udløber {expires}. Hvis du får denne besked mere end én gang, virker kun den nyeste kode. Ingen fra helpdesken vil nogensinde bede dig om den.',
  'mail.code.unexpected': 'Hvis du ikke ventede denne besked, så kontakt helpdesken med det samme.',

  'mail.state.issued': 'udstedt',
  'mail.state.active': 'aktiv',
  'mail.state.suspended': 'spærret',
  'mail.state.revoked': 'tilbagekaldt',
  'mail.state.expired': 'udløbet',
  'mail.transition.subject': 'Din sikkerhedsnøgle "{label}" er nu {state}',
  'mail.transition.subjectRevoked': 'Kvittering: din sikkerhedsnøgle "{label}" er tilbagekaldt',
  'mail.transition.now': 'Din sikkerhedsnøgle "{label}" er nu {state}.',
  'mail.transition.reason': 'Årsag:',
  'mail.transition.by': 'Af:',
  'mail.transition.time': 'Tidspunkt:',
  'mail.transition.keyId': 'Nøgle-id:',
  'mail.transition.note': 'Bemærkning:',
  'mail.transition.receipt': 'Kvittering:',
  'mail.transition.revoked': 'Dette er din kvittering for tilbagekaldelsen (NSIS 3.2.3). Nøglen kan aldrig bruges igen.',
  'mail.transition.compromised': 'Fordi der er mistanke om kompromittering, kan nøglen aldrig bruges igen. Kontakt helpdesken for at få en ny nøgle.',
  'mail.transition.suspended': 'Nøglen kan ikke bruges, før den er genaktiveret gennem helpdesken.',
  'mail.actor.system': 'gatewayen selv (automatisk beskyttelse)',
  'mail.actor.holder': 'dig',
  'mail.actor.staff': '{name} ({role})',
  'mail.actor.someone': 'en medarbejder',
  'mail.role.helpdesk': 'helpdesk',
  'mail.role.security-officer': 'sikkerhedsansvarlig',
  'mail.role.org-admin': 'administrator',
  'mail.role.provisioning': 'brugerkatalog',
  'mail.role.employee': 'medarbejder',

  'mail.clone.subject': 'Sikkerhedsnøgle {state}: mulig kopi ({holder})',
  'mail.clone.text':
    'Sikkerhedsnøglen "{label}" ({keyId}) tilhørende {holder} ({email}) viste {at} en signaturtæller, der ikke var steget. Det tyder på, at der findes en kopi af nøglen. Gatewayen tog den automatisk ud af brug (årsag: {reason}; den er nu {state}). Den kan kun tilbagekaldes; indehaveren skal have en ny nøgle.',

  'mail.bindingEnded.subject': 'Din tilknytning til {org} er ophørt',
  'mail.bindingEnded.text.one': 'Din tilknytning til {org} ophørte {at}. {count} sikkerhedsnøgle blev tilbagekaldt, og alle dine sessioner blev afsluttet.',
  'mail.bindingEnded.text.other': 'Din tilknytning til {org} ophørte {at}. {count} sikkerhedsnøgler blev tilbagekaldt, og alle dine sessioner blev afsluttet.',
  'mail.bindingEnded.unexpected': 'Hvis du ikke ventede dette, så kontakt din organisation.',
  'mail.theOrganisation': 'organisationen',

  'mail.compromise.subject': 'Sikkerhedsnøgler taget ud af brug: model {aaguid} meldt {status}',
  'mail.compromise.reported': 'FIDO Metadata Service melder nu godkendermodellen {aaguid} som {status}.',
  'mail.compromise.done': 'Gatewayen spærrede {suspended} aktive nøgle(r) og tilbagekaldte {revoked} nøgle(r), der endnu ikke var aktiveret (årsag: {reason}).',
  'mail.compromise.next': 'Indehaverne har fået besked. De skal have nye nøgler af en anden model. Sikkerhedssiden viser de berørte nøgler.',

  'mail.link.subject': 'Registrér din sikkerhedsnøgle',
  'mail.link.issued': '{issuer} har udstedt et engangslink, som du kan registrere en sikkerhedsnøgle med:',
  'mail.link.yourOrganisation': 'Din organisation',
  'mail.link.open':
    'Åbn det i din browser, og rør ved din nøgle. Det kan bruges én gang og udløber {expires}. Hvis du får denne besked mere end én gang, virker kun det nyeste link.',
  'mail.link.after': 'Når nøglen er registreret, kommer der en aktiveringskode til denne adresse; med nøglen og koden aktiverer du den.',
  'mail.link.nobody': 'Ingen vil nogensinde bede dig om dette link eller koden. Hvis du ikke ventede denne besked, så kontakt helpdesken med det samme.',

  'mail.handover.subject': 'Et link til at registrere en sikkerhedsnøgle er givet til dig personligt',
  'mail.handover.issued':
    '{at} udstedte {issuer} et engangslink, som du kan registrere en sikkerhedsnøgle med, og valgte at give dig det personligt. Det udløber {expires}.',
  'mail.handover.anAdministrator': 'en administrator',
  'mail.handover.check':
    'Hvis du ikke selv har fået linket personligt af vedkommende, så kontakt helpdesken eller en anden administrator med det samme: en anden forsøger måske at registrere en nøgle i dit navn.',
  'mail.handover.codeHere': 'Aktiveringskoden til en nøgle, der registreres med linket, sendes kun til denne adresse.',

  'mail.duty.subject.requested': 'Anmodet: {title}',
  'mail.duty.subject.executed': 'Udført: {title}',
  'mail.duty.requested': '{who} har bedt om følgende. Det sker kun, hvis en anden person godkender det.',
  'mail.duty.approved': 'Følgende er udført: bedt om af {who} og godkendt af {approver}.',
  'mail.duty.bootstrap':
    'Følgende er udført af {who} alene: organisationen har endnu ikke to personer, der kan godkende det, så tomandskontrollen er slået fra for det.',
  'mail.duty.executed': 'Følgende er udført af {who}.',
  'mail.duty.objectRequested':
    'Hvis du ikke selv har bedt om dette, så gør indsigelse med det samme: ring til eller besøg helpdesken eller en anden administrator (svar ikke på denne mail), og oplys referencen nedenfor. Indtil nogen godkender det, ændres intet.',
  'mail.duty.objectExecuted':
    'Hvis du ikke selv har bedt om dette, så kontakt helpdesken eller en anden administrator med det samme (svar ikke på denne mail), og oplys referencen nedenfor.',
  'mail.duty.objectOther': 'Hvis dette ser forkert ud, så kontakt en anden administrator eller de sikkerhedsansvarlige, og oplys referencen nedenfor.',
  'mail.reference': 'Referencenummer: {reference}',

  'mail.approval.subject': 'Venter på din godkendelse: {summary}',
  'mail.approval.asked': '{who} har bedt om følgende. Det sker kun, når en anden person godkender det, og du er en af dem, der må:',
  'mail.approval.open': 'Åbn din godkendelsesindbakke for at godkende eller afvise det: {url}',
  'mail.approval.wrong': 'Hvis det ser forkert ud, så afvis det dér, eller sig det til en anden administrator eller de sikkerhedsansvarlige.',

  'mail.auditAlarm.subject': 'ALARM: auditsporet er ændret; gatewayen underskriver ikke flere checkpoints',
  'mail.auditAlarm.refused':
    'Den {at} nægtede gatewayen at underskrive et checkpoint af sit auditspor: sporet i databasen fortsætter ikke længere fra det seneste checkpoint, gatewayen underskrev og skrev til sit vidne.',
  'mail.auditAlarm.finding': 'Fund:',
  'mail.auditAlarm.detail': 'Detalje:',
  'mail.auditAlarm.reason.checkpoints-removed': 'vidnet har checkpoints, som databasen mangler (slettet, eller en ældre kopi genindlæst)',
  'mail.auditAlarm.reason.checkpoint-replaced': 'databasens checkpoint er et andet end det, vidnet har',
  'mail.auditAlarm.reason.chain-rewritten': 'posterne efter det seneste checkpoint fører ikke derfra til hovedet (rettet, slettet eller kædet om)',
  'mail.auditAlarm.reason.unverifiable-checkpoint': 'et checkpoint i databasen, som endnu ikke er bevidnet, kan ikke verificeres',
  'mail.auditAlarm.reason.witness-conflict': 'vidnet afviste det nye checkpoint: det har et andet med samme nummer',
  'mail.auditAlarm.next':
    'Indtil dette er løst, underskriver gatewayen ikke flere checkpoints. Nogen med skriveadgang til databasen kan have rettet, slettet eller kædet auditposter eller checkpoints om, eller en ældre kopi af databasen er genindlæst. Kør `npm run audit:verify` på serveren (og på en kopi, der opbevares et andet sted) for at se, hvad der er ændret, gem databasefilen, vidnemappen og logfilerne som bevis, og følg hændelsesproceduren.',

  'mail.adminRecovered.subject': 'Administratoradgang genoprettet for {name}',
  'mail.adminRecovered.what':
    'Den {at} blev administratoradgangen for {name} <{email}> genoprettet på selve serveren: en person med lokal adgang til gatewayserveren og HSM-brugerens PIN kørte `npm run recover-admin`.',
  'mail.adminRecovered.server': 'Servernavn:',
  'mail.adminRecovered.osUser': 'Som bruger:',
  'mail.adminRecovered.token': 'HSM-token:',
  'mail.adminRecovered.valid': 'Link gyldigt:',
  'mail.adminRecovered.validUntil': 'indtil {expires} (kan bruges én gang)',
  'mail.adminRecovered.issued': 'Der er udstedt et nyt engangslink til registrering af en sikkerhedsnøgle for {name}; ingen nøgle er aktiveret endnu. Aktiveringskoden sendes til {email}.',
  'mail.adminRecovered.unexpected': 'Hvis du ikke ventede dette, så handl nu: kontakt sikkerhedsansvarlige, og få den nye nøgle tilbagekaldt eller tilknytningen afsluttet, før den bliver brugt.',
};
